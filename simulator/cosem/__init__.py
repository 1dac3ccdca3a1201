"""COSEM interface classes (Blue Book) declared as immutable tables, with their behaviour."""
