"""Prepares a fresh moto server (started with INITIAL_NO_AUTH_ACTION_COUNT=3) for the tests.

The first three requests go unchecked: they create an IAM user, an access key and an allow-all
policy. Every later request must carry a valid AWS Signature V4 of that key, as on AWS. The bucket
is then created with the new key (so the signature check is exercised from the start).

Usage: moto_setup.py ENDPOINT REGION BUCKET   (prints {"access_key_id", "secret_access_key"} as JSON)
"""

import json
import sys

import boto3
from botocore.config import Config


def main() -> None:
    endpoint, region, bucket = sys.argv[1:4]
    bootstrap = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=region, **bootstrap)
    iam.create_user(UserName="backup-manager-test")
    key = iam.create_access_key(UserName="backup-manager-test")["AccessKey"]
    iam.put_user_policy(
        UserName="backup-manager-test",
        PolicyName="allow-all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(s3={"addressing_style": "path"}),
    )
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    print(json.dumps({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}))


if __name__ == "__main__":
    main()
