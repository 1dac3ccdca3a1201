"""A virtual DLMS/COSEM server: fleets of software meters that behave on the wire like real ones."""

__version__ = "0.1.0"
