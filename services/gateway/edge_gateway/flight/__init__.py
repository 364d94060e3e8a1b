"""Arrow Flight and Flight SQL, served beside HTTP on the same port."""
