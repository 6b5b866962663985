"""The lessons' screens for the hall: a lesson on the projector (presentation.py) and the
learner's full-screen quiz (learner_mode.py). They take a CoursePack or a Lesson and callbacks;
storing what happened is the caller's business."""
