from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired


class SignInForm(FlaskForm):
    email = EmailField(
        "E-mail address", validators=[DataRequired()], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        description="What the token is for, e.g. the script or system that uses it.",
        render_kw={"maxlength": 100},
    )
