"""The data stack: the one DynamoDB table all three runtimes share, the Lambda runtime's
WebSocket connections table, and the artifact bucket.

The tables' attribute definitions, key schemas, GSI and billing mode are taken from
``cafe.stores.schema.create_table_arguments`` and ``create_connections_table_arguments`` — the
same calls the adapter's tests use — so the deployed tables cannot drift from what the stores
expect. The order book's stream (its change feed) is an output, as are both tables, for the Lambda
stack's event source mapping and policies. The artifact bucket holds the Lambda zip and the EC2
app bundle that the deploy helpers upload.
"""

from __future__ import annotations

from cafe.stores import schema
from infra.cfn import Json, checkov_skips, equals, get_att, if_, ref, sub, tags

DESCRIPTION = (
    "Cafe Compute data stack: the shared order-book table, the WebSocket connections table and "
    "the deploy artifact bucket"
)
#: Both tables are encrypted with the AWS owned key (SSESpecification) rather than a CMK.
NO_CMK = (
    "CKV_AWS_119",
    "Encrypted with the AWS owned/managed key; a customer managed KMS key costs "
    "$1/month plus requests and buys nothing for a demo cafe's tables.",
)


def _table_settings(name: str, arguments: Json) -> Json:
    """What both tables share: the name, recovery, encryption, protection, TTL, tags."""
    del arguments["TableName"]
    return {
        "TableName": sub(name),
        **arguments,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": if_("Protected", True, False),
        "TimeToLiveSpecification": {"AttributeName": schema.TIME_TO_LIVE_ATTRIBUTE, "Enabled": True},
        "Tags": tags(ref("Stage")),
    }


def table_properties() -> Json:
    """Table properties derived from the schema module (CloudFormation uses the API's names)."""
    arguments = schema.create_table_arguments("unused")
    # CloudFormation's StreamSpecification has the view type only (a stream is on when present).
    arguments["StreamSpecification"] = {"StreamViewType": schema.STREAM_SPECIFICATION["StreamViewType"]}
    return _table_settings("cafe-${Stage}", arguments)


def connections_table_properties() -> Json:
    """The connections table, from its schema arguments. No stream: connection churn must never
    reach a change feed; items expire by TTL (``expiration``) when a $disconnect never ran."""
    return _table_settings("cafe-${Stage}-connections", schema.create_connections_table_arguments("unused"))


def _table(properties: Json) -> Json:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Retain",
        "Metadata": checkov_skips(NO_CMK),
        "Properties": properties,
    }


def template() -> Json:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": DESCRIPTION,
        "Parameters": {
            "Stage": {
                "Type": "String",
                "Default": "dev",
                "AllowedPattern": "^[a-z][a-z0-9-]{0,15}$",
                "Description": "Deployment stage; names the tables cafe-<stage> and "
                "cafe-<stage>-connections.",
            },
            "DeletionProtection": {
                "Type": "String",
                "Default": "true",
                "AllowedValues": ["true", "false"],
                "Description": "DynamoDB deletion protection: while true the tables (and so this "
                "stack) cannot be deleted. make passes false for non-prod stages.",
            },
        },
        "Conditions": {"Protected": equals(ref("DeletionProtection"), "true")},
        "Resources": {
            "OrdersTable": _table(table_properties()),
            "ConnectionsTable": _table(connections_table_properties()),
            "ArtifactBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Retain",
                "Metadata": checkov_skips(
                    (
                        "CKV_AWS_18",
                        "Holds only build artifacts (Lambda zip, EC2 bundle) written by the deploy "
                        "helpers; server access logs would need a second bucket and add nothing.",
                    ),
                    (
                        "CKV_AWS_144",
                        "Artifacts are rebuilt from git on demand; cross-region replication is not "
                        "worth a second bucket.",
                    ),
                    (
                        "CKV_AWS_145",
                        "SSE-S3 (AES256) is enough for build artifacts that contain no secrets.",
                    ),
                ),
                "Properties": {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "expire-old-artifacts",
                                "Status": "Enabled",
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                            }
                        ]
                    },
                    "Tags": tags(ref("Stage")),
                },
            },
            "ArtifactBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": ref("ArtifactBucket"),
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [
                                    get_att("ArtifactBucket", "Arn"),
                                    sub("${ArtifactBucket.Arn}/*"),
                                ],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": {
            "TableName": {"Value": ref("OrdersTable"), "Description": "the shared order-book table"},
            "TableArn": {"Value": get_att("OrdersTable", "Arn")},
            "TableStreamArn": {
                "Value": get_att("OrdersTable", "StreamArn"),
                "Description": "the order book's change feed (the Lambda stream handler reads it)",
            },
            "ConnectionsTableName": {
                "Value": ref("ConnectionsTable"),
                "Description": "the Lambda runtime's WebSocket subscribers",
            },
            "ConnectionsTableArn": {"Value": get_att("ConnectionsTable", "Arn")},
            "ArtifactBucket": {
                "Value": ref("ArtifactBucket"),
                "Description": "where deploy helpers upload the Lambda zip and the EC2 bundle",
            },
        },
    }
