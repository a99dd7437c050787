"""Small checks that several services share, each adding a message per bad field."""


def text(
    errors: dict[str, str],
    field: str,
    value: str | None,
    label: str,
    *,
    max_length: int,
    required: bool = True,
) -> str:
    """``value`` stripped; records in ``errors`` when it is empty (if required) or too long."""
    value = (value or "").strip()
    if required and not value:
        errors[field] = f"The {label} is empty."
    elif len(value) > max_length:
        errors[field] = f"The {label} must be at most {max_length} characters."
    return value
