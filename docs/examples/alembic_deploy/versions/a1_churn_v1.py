"""Deploy churn model version 1 (an application's own alembic revision).

The artifact is referenced by path and sha256; its bytes never enter the revision.
"""

from pathlib import Path

from pgscore.alembic_ops import deploy_model, undeploy_model

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None

HERE = Path(__file__).resolve().parent
ARTIFACT = HERE.parent / "models" / "churn-1.joblib"


def sha256():
    """The sha256 make_models.py wrote: read when the revision runs, not when alembic imports it (it imports
    every revision for every command, `alembic history` too). A revision of your own pins it as a literal."""
    return (HERE.parent / "models" / "churn-1.joblib.sha256").read_text().split()[0]


def upgrade():
    deploy_model("churn", ARTIFACT, sha256(), revision=revision,
                 train_csv=HERE.parent / "models" / "churn-train.csv", target="churned",
                 description="churn v1, shipped by migration a1")


def downgrade():
    undeploy_model("churn", revision=revision)
