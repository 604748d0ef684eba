"""The follow service: web app, store, mailer and newsletter sender."""
