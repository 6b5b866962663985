"""The lessons' screens for the hall: a lesson on the projector (presentation.py) and the
learner's full-screen quiz (learner_mode.py). They take a CoursePack or a Lesson and callbacks;
storing what happened is the caller's business.

The trainers' page (classes_page.py) and its dialogs (class_dialogs.py) are imported here so
that their dialogs register with `dxkit.ui.fitting.DIALOGS` when the app's screens are loaded.
"""

from dxkit.ui.lessons import class_dialogs as class_dialogs
