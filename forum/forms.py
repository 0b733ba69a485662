"""What every form page shares: re-render with errors at the right status."""

from __future__ import annotations

from flask import render_template, request
from flask_wtf import FlaskForm


def form_page(template: str, form: FlaskForm, **context):
    """Render a form page: 200 when shown, 400 when a submission was refused."""
    refused = request.method == "POST" and bool(form.errors or form.form_errors)
    return render_template(template, form=form, **context), 400 if refused else 200
