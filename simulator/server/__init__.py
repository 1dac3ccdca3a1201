"""The server side of a meter, still sans-IO: objects, associations and xDLMS services."""
