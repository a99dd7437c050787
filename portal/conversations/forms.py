"""The form of a conversation's page. It parses; the workflow checks the message."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField

from portal.conversations.models import MAX_BODY


class MessageForm(FlaskForm):
    body = TextAreaField("Your message", render_kw={"rows": 5})
    hint = f"At most {MAX_BODY:,} characters."
