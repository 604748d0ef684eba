"""Deploy the published site: rsync over SSH to the target in the settings or environment.

Not a Pelican plugin: the invoke task ``deploy`` (``make deploy``) calls it.
"""

from .deploy import (
    Changes,
    DeployError,
    Plan,
    check_target,
    deploy_plan,
    publish_and_upload,
    upload_site,
)

__all__ = ["Changes", "DeployError", "Plan", "check_target", "deploy_plan",
           "publish_and_upload", "upload_site"]
