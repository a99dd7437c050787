"""The base of every form of the pages."""

from flask_wtf import FlaskForm


class PageForm(FlaskForm):
    """A page's form. Its CSRF token is written without an id: a page carries several
    forms, each with its token, and an id is unique in valid HTML (assistive technology
    reads a page by them); nothing points at a token, the browser sends it by name."""

    class Meta:
        def render_field(self, field, render_kw):
            if field.type == "CSRFTokenField":
                render_kw = {**render_kw, "id": False}  # False: wtforms writes no id
            return super().render_field(field, render_kw)
