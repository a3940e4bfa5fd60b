"""Server-rendered pages: routes, Jinja templates and static files."""
