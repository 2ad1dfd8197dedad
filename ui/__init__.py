"""Front doors: the Gradio web UI (web.py) and the HTTP API (api.py)."""
