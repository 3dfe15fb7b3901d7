"""The bundled offline demo news site."""
