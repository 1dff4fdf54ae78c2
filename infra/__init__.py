"""Deployment tooling: CloudFormation template generators and boto3 deploy helpers.

Everything under ``infra.templates`` is pure (no AWS calls) so ``make package-all`` works
offline; the deploy modules talk to AWS only through boto3 clients, which honour
``AWS_ENDPOINT_URL`` — the tests point that at a local moto server and run the same code.
"""
