from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo

from portal.webforms import PageForm


class SignInForm(PageForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Give your e-mail address."))],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Give your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class TokenForm(PageForm):
    name = StringField(
        _l("Name"),
        description=_l("What the token is for, e.g. the script or system that uses it."),
        render_kw={"maxlength": 100},
    )


class InvitationForm(PageForm):
    """Invite someone: the roles (and Nations) offered depend on who invites."""

    email = EmailField(
        _l("E-mail address of the person to invite"),
        validators=[DataRequired(_l("Give the e-mail address to send the invitation to."))],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        _l("Role"),
        validators=[DataRequired(_l("Choose a role."))],
        invalid_choice_message=_l("Choose a role."),
    )
    nation = SelectField(
        _l("Nation (for a representative)"),
        default="",
        invalid_choice_message=_l("Choose a Nation from the list."),
    )


class NewAccountForm(PageForm):
    """Accept an invitation by creating one's login."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Give your name."))],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(_l("Choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The password again"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


NEW_PASSWORD_HINT = _l("At least 10 characters. A few unrelated words make a good one.")


class ForgotPasswordForm(PageForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Give your e-mail address."))],
        render_kw={"autocomplete": "username"},
    )


class NewPasswordForm(PageForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a new password."))],
        description=NEW_PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The new password again"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class AcceptForm(PageForm):
    """Accept an invitation as the signed-in person (a button and its CSRF token)."""


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Give your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmForm(PageForm):
    """A button and its CSRF token, nothing else."""


class CodeForm(PageForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Give the code your authenticator app shows, or a recovery code."))
        ],
        description=_l(
            "The six digits your authenticator app shows now, or one of your recovery codes."
        ),
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "maxlength": 20},
    )


class DisableTwoFactorForm(PageForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Give your password."))],
        render_kw={"autocomplete": "current-password"},
    )
