from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo


class SignInForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Give your e-mail address.")],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Give your password.")],
        render_kw={"autocomplete": "current-password"},
    )


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        description="What the token is for, e.g. the script or system that uses it.",
        render_kw={"maxlength": 100},
    )


class InvitationForm(FlaskForm):
    """Invite someone: the roles (and Nations) offered depend on who invites."""

    email = EmailField(
        "E-mail address of the person to invite",
        validators=[DataRequired("Give the e-mail address to send the invitation to.")],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        "Role", validators=[DataRequired("Choose a role.")], invalid_choice_message="Choose a role."
    )
    nation = SelectField(
        "Nation (for a representative)",
        default="",
        invalid_choice_message="Choose a Nation from the list.",
    )


class NewAccountForm(FlaskForm):
    """Accept an invitation by creating one's login."""

    name = StringField(
        "Your name",
        validators=[DataRequired("Give your name.")],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    password = PasswordField(
        "Choose a password",
        validators=[DataRequired("Choose a password.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "The password again",
        validators=[EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


NEW_PASSWORD_HINT = "At least 10 characters. A few unrelated words make a good one."  # noqa: S105


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Give your e-mail address.")],
        render_kw={"autocomplete": "username"},
    )


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password.")],
        description=NEW_PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "The new password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new_password", message="The two new passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class AcceptForm(FlaskForm):
    """Accept an invitation as the signed-in person (a button and its CSRF token)."""


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Give your current password.")],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token, nothing else."""


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Give the code your authenticator app shows, or a recovery code.")
        ],
        description="The six digits your authenticator app shows now, or one of your "
        "recovery codes.",
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "maxlength": 20},
    )


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Give your password.")],
        render_kw={"autocomplete": "current-password"},
    )
