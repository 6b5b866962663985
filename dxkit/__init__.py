"""dxkit: offline-first toolkit for community digital technology teams and cooperatives."""

__version__ = "0.1.0"
