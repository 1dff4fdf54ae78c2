# Deploy (infra/): CloudFormation stacks for the data table and the three runtimes, offline
# packaging and linting. docs/deploy.md describes every target, what it costs while running and
# how to destroy it. Region and stage apply to every target:
REGION ?= us-east-1
STAGE ?= dev
BUILD ?= build
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# Table deletion protection: on for prod, off elsewhere so destroy-data works.
DELETION_PROTECTION ?= $(if $(filter prod,$(STAGE)),true,false)
# EC2 launch settings (empty = the template's documented default); PARAMS="Key=Value ..." adds any
# other stack parameter, e.g. PARAMS="RootVolumeSize=16 HttpCidr=203.0.113.0/24".
INSTANCE_TYPE ?=
AMI_ID ?=
USE_BAKED_AMI ?=
EC2_MODE ?=
KEY_NAME ?=
ADMIN_CIDR ?=
PUBLIC_IP ?=
VPC_ID ?=
SUBNET_IDS ?=
PARAMS ?=
# EC2: REFRESH_AMI=1 moves a running stack to the current AL2023 AMI (replaces the instance).
REFRESH_AMI ?=
# HTTPS on the ALB (Fargate; EC2 scale-out): an ACM certificate ARN in REGION.
CERTIFICATE_ARN ?=
# Fargate: SKIP_IMAGE=1 deploys the stack without building/pushing (needs an IMAGE_TAG in ECR).
SKIP_IMAGE ?=
IMAGE_TAG ?=
# Lambda: the runtime (default: the Python running chalice; see docs/deploy.md).
LAMBDA_RUNTIME ?=
# AWS Academy Learner Lab: LAB=1 on any deploy/package target — no IAM resources, the lab's
# LabRole / LabInstanceProfile, region and instance type checked against the lab's limits, and
# every deploy starts with the session's preflight (the same probes as make lab-check).
LAB ?=
LAB_FLAG = $(if $(LAB),--lab)

DEPLOY := $(BIN)/python -m infra.deploy --stage $(STAGE) --region $(REGION) $(LAB_FLAG)
NET_PARAMS = $(if $(VPC_ID),--param VpcId=$(VPC_ID)) $(if $(SUBNET_IDS),--param SubnetIds=$(SUBNET_IDS))
STACK_PARAMS = $(foreach p,$(PARAMS),--param $(p))
EXTRA_PARAMS = $(STACK_PARAMS) $(if $(CERTIFICATE_ARN),--param CertificateArn=$(CERTIFICATE_ARN))
EC2_PARAMS = $(if $(INSTANCE_TYPE),--param InstanceType=$(INSTANCE_TYPE)) \
  $(if $(AMI_ID),--param AmiId=$(AMI_ID)) \
  $(if $(USE_BAKED_AMI),--use-baked-ami) $(if $(REFRESH_AMI),--refresh-ami) \
  $(if $(EC2_MODE),--param Mode=$(EC2_MODE)) $(if $(KEY_NAME),--param KeyName=$(KEY_NAME)) \
  $(if $(ADMIN_CIDR),--param AdminCidr=$(ADMIN_CIDR)) \
  $(if $(PUBLIC_IP),--param AssociatePublicIp=$(PUBLIC_IP))

$(CHECKOV): infra/checkov-requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/checkov-requirements.txt
	touch $@

.PHONY: checkov-venv  ## create .venv-checkov (checkov has its own venv: its pins clash with ours)
checkov-venv: $(CHECKOV)

.PHONY: templates  ## write the data, Fargate and EC2 CloudFormation templates to build/templates
templates: $(STAMP)
	$(BIN)/python -m infra.render --out $(BUILD)/templates $(LAB_FLAG)

.PHONY: lambda-vendor  ## rebuild chalice_app/vendor/ from shared/ (the Lambda zip's copy of cafe)
lambda-vendor: $(STAMP)
	$(BIN)/python -m infra.lambda_package --vendor-only

.PHONY: package-lambda  ## chalice package → build/lambda/STAGE/package (sam.json, template.json, zip)
package-lambda: $(STAMP)
	$(BIN)/python -m infra.lambda_package --stage $(STAGE) --region $(REGION) --build $(BUILD) $(LAB_FLAG) \
	  $(if $(LAMBDA_RUNTIME),--runtime $(LAMBDA_RUNTIME))

.PHONY: package-ec2  ## build the EC2 app bundle (build/ec2/ec2-bundle-<hash>.tar.gz)
package-ec2: $(STAMP)
	$(BIN)/python -c "from pathlib import Path; from infra import bundle; print(bundle.build(Path('.'), Path('$(BUILD)/ec2')))"

.PHONY: package-all  ## every template and artifact into build/, offline, no AWS credentials
package-all: templates package-lambda package-ec2
	cp fargate/Dockerfile ec2/user-data.sh $(BUILD)/
	@find $(BUILD)/templates $(BUILD)/lambda/$(STAGE)/package $(BUILD)/ec2 -type f | sort

# Every template package-all wrote (the recipe expands this after package-all has run). checkov
# gets each as its own -f: given several -d folders it scans only one of them.
DEPLOY_TEMPLATES = $(wildcard $(BUILD)/templates/*.json $(BUILD)/lambda/$(STAGE)/package/*.json)

.PHONY: lint-deploy  ## cfn-lint + checkov on every template, hadolint on the Dockerfile, shellcheck
lint-deploy: package-all $(CHECKOV)
	$(BIN)/cfn-lint $(DEPLOY_TEMPLATES)
	$(CHECKOV) --quiet --compact --skip-download --framework cloudformation \
	  $(addprefix -f ,$(DEPLOY_TEMPLATES))
	$(BIN)/hadolint fargate/Dockerfile
	$(BIN)/shellcheck ec2/*.sh

.PHONY: test-deploy  ## deploy tests: lint every template, run each deploy path against moto
test-deploy: $(STAMP) $(CHECKOV)
	$(BIN)/python -m pytest -q tests/deploy

.PHONY: lab-check  ## probe what this AWS session may do (nothing paid is created); LAB=1 for a Learner Lab
lab-check: $(STAMP)
	$(BIN)/python -m infra.preflight --region $(REGION) $(LAB_FLAG) \
	  $(if $(INSTANCE_TYPE),--instance-type $(INSTANCE_TYPE))

.PHONY: deploy-data  ## deploy the shared DynamoDB tables + artifact bucket (stack cafe-data-STAGE)
deploy-data: $(STAMP)
	$(DEPLOY) data --deletion-protection $(DELETION_PROTECTION)

.PHONY: destroy-data  ## delete the data stack: the TABLES AND ALL ORDERS, the bucket, the staff token
destroy-data: $(STAMP)
	$(DEPLOY) data --destroy

.PHONY: deploy-lambda  ## package and deploy the Chalice app (stack cafe-lambda-STAGE); prints the URL and the WebSocket URL
deploy-lambda: deploy-data package-lambda
	$(DEPLOY) lambda --package-dir $(BUILD)/lambda/$(STAGE)/package $(STACK_PARAMS)

.PHONY: destroy-lambda  ## delete the Lambda stack (functions, REST and WebSocket APIs, stream mapping, roles, log groups)
destroy-lambda: $(STAMP)
	$(DEPLOY) lambda --destroy

.PHONY: deploy-fargate  ## push the arm64 image (docker buildx) and deploy ECS/ALB; prints the URL
deploy-fargate: deploy-data
	$(DEPLOY) fargate $(NET_PARAMS) $(EXTRA_PARAMS) $(if $(SKIP_IMAGE),--skip-image) \
	  $(if $(IMAGE_TAG),--image-tag $(IMAGE_TAG))

.PHONY: destroy-fargate  ## delete the Fargate stack (service, ALB, cluster, repository and images)
destroy-fargate: $(STAMP)
	$(DEPLOY) fargate --destroy

.PHONY: deploy-ec2  ## upload the app bundle and deploy the EC2 stack (INSTANCE_TYPE, EC2_MODE, ...)
deploy-ec2: deploy-data
	$(DEPLOY) ec2 $(NET_PARAMS) $(EC2_PARAMS) $(EXTRA_PARAMS)

.PHONY: destroy-ec2  ## delete the EC2 stack (instance or ASG + ALB, role, security groups)
destroy-ec2: $(STAMP)
	$(DEPLOY) ec2 --destroy

.PHONY: bake-ami  ## create an AMI from the deployed EC2 instance (app installed); USE_BAKED_AMI=1 launches it
bake-ami: $(STAMP)
	$(BIN)/python -m infra.bake --stage $(STAGE) --region $(REGION)
