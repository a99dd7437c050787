"""The form of a conversation's page. It parses; the workflow checks the message."""

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from portal.conversations.models import MAX_BODY
from portal.webforms import PageForm


class MessageForm(PageForm):
    body = TextAreaField(_l("Your message"), render_kw={"rows": 5})

    @property
    def hint(self) -> str:
        return _("At most %(count)s characters.", count=format_number(MAX_BODY))
