# syntax=docker/dockerfile:1
# The seller-inbox image: Apache Airflow's official image plus this project's pinned
# requirements. docker-compose.yaml builds it (build: context .) for every Airflow service and
# the SP-API simulator. Keep FROM on the Airflow version requirements.txt pins
# (tests/unit/test_compose.py compares the two).
FROM apache/airflow:3.3.2-python3.11

# The project sits where Airflow expects it: seller_inbox.paths resolves REPO_ROOT to
# /opt/airflow, so DAGS and PLUGINS are Airflow's own /opt/airflow/dags and /opt/airflow/plugins.
# docker-compose.yaml bind-mounts ./dags, ./plugins and ./include over these copies, so a
# code change needs no rebuild; the copies make the image usable on its own (remote workers).
WORKDIR /opt/airflow

# 1) the pinned dependencies, in their own layer (rebuilt only when requirements.txt or
#    pyproject.toml change). apache-airflow is pinned in requirements.txt to the version of the
#    base image, so pip cannot swap Airflow out from under the image. The project's own line
#    (`--editable .` or `-e .`) is left out: include/ is not copied yet.
COPY --chown=airflow:0 requirements.txt pyproject.toml ./
RUN grep -Ev '^(-e|--editable)([ =]|$)' requirements.txt > /tmp/requirements-deps.txt \
 && pip install --no-cache-dir -r /tmp/requirements-deps.txt \
 && rm /tmp/requirements-deps.txt

# 2) the project (.dockerignore lets through only requirements.txt, pyproject.toml, include/,
#    dags/, plugins/), then the whole requirements.txt again: everything is already satisfied
#    except `--editable .`, which installs seller_inbox (and the dev tooling seller_inbox_dev: the
#    simulator and demo mail the compose file runs) editable from /opt/airflow/include (the folder
#    the compose file mounts) and the `seller-inbox` command.
COPY --chown=airflow:0 . ./
RUN pip install --no-cache-dir -r requirements.txt \
 && pip check \
 && python -c "import seller_inbox.cli, seller_inbox.paths as p; assert str(p.DAGS) == '/opt/airflow/dags', p.DAGS; seller_inbox.cli.build_parser().parse_args(['sandbox', 'sellers'])"
