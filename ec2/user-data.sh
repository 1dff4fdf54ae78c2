#!/bin/bash
# Café Compute — EC2 bootstrap for Amazon Linux 2023 (cloud-init user data).
#
# The CloudFormation template (infra/templates/ec2.py) puts `export NAME=value` lines for the
# settings below in front of this file; nothing else is changed, so what runs on the instance is
# this script. Every step converges, so running it again (as root:
# `bash /var/lib/cloud/instance/user-data.txt`) is safe: packages are only added, the app bundle is
# reinstalled only when its S3 key (which carries its content hash) changes, the unit is rewritten
# and restarted.
#
# The stack waits for this script: once /health answers it sends `cfn-signal` success to the
# resource named by CAFE_CFN_RESOURCE; when any step fails (set -e) the EXIT trap sends the failure
# status instead, so CloudFormation fails and rolls back rather than reporting a broken instance
# as created.
#
# What it installs is pinned: the dnf packages come from the Amazon Linux 2023 release the AMI is
# locked to (AL2023 repositories are versioned; the deploy passes the AMI explicitly), and pip
# installs the bundle's requirements/runtime-lock.txt (every package, transitive ones included,
# at an exact version) with --no-deps, using the pip that ships with Python (no self-upgrade).
#
# Settings (required unless a default is shown):
#   CAFE_TABLE             the shared DynamoDB table
#   CAFE_BUNDLE_BUCKET     artifact bucket holding the app bundle (uploaded by `make deploy-ec2`)
#   CAFE_BUNDLE_KEY        key of the bundle (a .tar.gz of shared/, ec2/, requirements/)
#   CAFE_TOKEN_PARAMETER   SSM SecureString holding the staff token (read at every service start)
#   AWS_REGION             region of the table, bucket and parameter
#   CAFE_PORT=80           port gunicorn binds on 0.0.0.0
#   CAFE_STAGE=dev         deployment stage (log and metric dimensions)
#   CAFE_STAFF_REQUIRE_HTTPS=1   "1": refuse staff calls that did not arrive over HTTPS
#   CAFE_CFN_STACK, CAFE_CFN_RESOURCE   where to cfn-signal (unset: no signal, e.g. a manual re-run)
set -euo pipefail

CFN_SIGNAL=/opt/aws/bin/cfn-signal
work=""
signalled=""

log() { echo "cafe-user-data: $*"; }

# Tell CloudFormation how the boot went (once): $1 = exit status (0 = healthy), $2 = reason.
signal_stack() {
  [[ -n "${CAFE_CFN_STACK:-}" && -z "$signalled" ]] || return 0
  signalled=1
  if [[ -x "$CFN_SIGNAL" ]]; then
    "$CFN_SIGNAL" --exit-code "$1" --reason "$2" --stack "$CAFE_CFN_STACK" \
      --resource "$CAFE_CFN_RESOURCE" --region "$AWS_REGION" || log "cfn-signal failed"
  else
    log "no $CFN_SIGNAL: the stack times out instead"
  fi
}

# shellcheck disable=SC2329  # invoked by the EXIT trap
on_exit() {
  local status=$?
  [[ -z "$work" ]] || rm -rf "$work"
  if ((status != 0)); then
    log "failed with status $status"
    signal_stack "$status" "user data failed (status $status): see /var/log/cloud-init-output.log"
  fi
}
trap on_exit EXIT

: "${CAFE_TABLE:?}" "${CAFE_BUNDLE_BUCKET:?}" "${CAFE_BUNDLE_KEY:?}" "${CAFE_TOKEN_PARAMETER:?}" "${AWS_REGION:?}"
CAFE_PORT="${CAFE_PORT:-80}"
CAFE_STAGE="${CAFE_STAGE:-dev}"
CAFE_STAFF_REQUIRE_HTTPS="${CAFE_STAFF_REQUIRE_HTTPS:-1}"

PYTHON=python3.11
PREFIX=/opt/cafe
APP_DIR="$PREFIX/app"
VENV="$PREFIX/venv"
UNIT=/etc/systemd/system/cafe.service
ENV_FILE=/etc/cafe/cafe.env

# 1. Packages: Python 3.11 (AL2023's python3 is 3.9), the AWS CLI for S3 and SSM, and
#    aws-cfn-bootstrap for cfn-signal — all from the AMI's locked AL2023 release.
packages=()
command -v "$PYTHON" >/dev/null 2>&1 || packages+=(python3.11 python3.11-pip)
command -v aws >/dev/null 2>&1 || packages+=(awscli-2)
[[ -x "$CFN_SIGNAL" ]] || packages+=(aws-cfn-bootstrap)
if ((${#packages[@]})); then
  log "installing ${packages[*]}"
  dnf install -y "${packages[@]}"
fi

# 2. A system user without a shell runs the service.
if ! id cafe >/dev/null 2>&1; then
  useradd --system --home-dir "$PREFIX" --no-create-home --shell /sbin/nologin cafe
fi
install -d -m 0755 "$PREFIX" "$PREFIX/bin" /etc/cafe

# 3. The app bundle, installed into a venv; skipped when this bundle is already installed (an AMI
#    baked by `make bake-ami` boots straight to step 4).
marker="$PREFIX/.installed-$(printf '%s' "$CAFE_BUNDLE_KEY" | sha256sum | cut -c1-16)"
if [[ ! -f "$marker" ]]; then
  log "installing s3://$CAFE_BUNDLE_BUCKET/$CAFE_BUNDLE_KEY"
  work="$(mktemp -d)"
  aws s3 cp --only-show-errors --region "$AWS_REGION" \
    "s3://$CAFE_BUNDLE_BUCKET/$CAFE_BUNDLE_KEY" "$work/bundle.tar.gz"
  mkdir "$work/app"
  tar -xzf "$work/bundle.tar.gz" -C "$work/app"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --no-deps --disable-pip-version-check \
    -r "$work/app/requirements/runtime-lock.txt" "$work/app/shared"
  rm -rf "$APP_DIR.old"
  if [[ -d "$APP_DIR" ]]; then mv "$APP_DIR" "$APP_DIR.old"; fi
  mv "$work/app" "$APP_DIR"
  rm -rf "$APP_DIR.old"
  # Bytecode now, as root: the service runs on a read-only /opt (ProtectSystem=strict).
  "$VENV/bin/python" -m compileall -q "$APP_DIR"
  chmod -R a+rX "$APP_DIR"
  install -m 0755 "$APP_DIR/ec2/load-secrets.sh" "$PREFIX/bin/cafe-load-secrets"
  rm -f "$PREFIX"/.installed-*
  touch "$marker"
fi

# 4. Settings for the service (no secrets here: the staff token is fetched at each start).
umask 022
cat >"$ENV_FILE" <<ENV
CAFE_STORE=dynamodb
CAFE_TABLE=$CAFE_TABLE
CAFE_TOKEN_PARAMETER=$CAFE_TOKEN_PARAMETER
AWS_REGION=$AWS_REGION
AWS_DEFAULT_REGION=$AWS_REGION
PORT=$CAFE_PORT
POWERTOOLS_SERVICE_NAME=cafe-compute
POWERTOOLS_METRICS_NAMESPACE=CafeCompute
POWERTOOLS_LOG_LEVEL=INFO
CAFE_STAGE=$CAFE_STAGE
CAFE_STAFF_REQUIRE_HTTPS=$CAFE_STAFF_REQUIRE_HTTPS
ENV

# 5. The unit: exactly the command `make run-ec2` runs, one gunicorn worker per vCPU.
cat >"$UNIT" <<UNIT
[Unit]
Description=Cafe Compute ordering service (EC2 runtime, gunicorn)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=cafe
Group=cafe
WorkingDirectory=$APP_DIR
EnvironmentFile=$ENV_FILE
EnvironmentFile=-/run/cafe/secrets.env
RuntimeDirectory=cafe
RuntimeDirectoryMode=0750
ExecStartPre=+$PREFIX/bin/cafe-load-secrets
ExecStart=$VENV/bin/gunicorn -c ec2/gunicorn.conf.py ec2.app:application
Restart=on-failure
RestartSec=2
TimeoutStopSec=30
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable cafe.service
systemctl restart cafe.service

# 6. Report when it answers (cloud-init's log shows boot-to-healthy). The CAFE_HEALTHY_EPOCH line
#    is for machines: `python -m compare run --remote` reads it through EC2 GetConsoleOutput and
#    subtracts the instance's LaunchTime (compare/ec2boot.py). It is also written to the serial
#    console directly, since whether cloud-init's stdout reaches the console depends on its unit
#    files; a second copy there is harmless (the first marker after launch counts).
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$CAFE_PORT/health" >/dev/null 2>&1; then
    healthy_line="CAFE_HEALTHY_EPOCH=$(date +%s.%N)"
    log "healthy on port $CAFE_PORT"
    log "$healthy_line"
    { echo "cafe-user-data: $healthy_line" >/dev/console; } 2>/dev/null || true
    signal_stack 0 "healthy on port $CAFE_PORT"
    exit 0
  fi
  sleep 1
done
log "not healthy after 60 s; see: journalctl -u cafe.service"
exit 1
