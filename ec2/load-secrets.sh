#!/bin/bash
# Run by systemd as root before each start of cafe.service (ExecStartPre=+...): reads the staff
# token from the SSM SecureString named by CAFE_TOKEN_PARAMETER and writes it to a root-only
# EnvironmentFile on tmpfs, so the token is never baked into the AMI, user data or unit file.
set -euo pipefail

: "${CAFE_TOKEN_PARAMETER:?}" "${AWS_REGION:?}"
umask 077
token="$(aws ssm get-parameter --region "$AWS_REGION" --name "$CAFE_TOKEN_PARAMETER" \
  --with-decryption --query Parameter.Value --output text)"
install -d -m 0750 /run/cafe
printf 'CAFE_STAFF_TOKEN=%s\n' "$token" >/run/cafe/secrets.env.tmp
mv /run/cafe/secrets.env.tmp /run/cafe/secrets.env
