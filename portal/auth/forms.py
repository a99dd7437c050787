from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired


class SignInForm(FlaskForm):
    email = EmailField(
        "E-mail address", validators=[DataRequired()], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
