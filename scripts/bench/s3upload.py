"""The off-site benchmark's reference: boto3's `upload_file` with its default transfer settings
(multipart above 8 MiB, 10 threads). Credentials come from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, as for any AWS tool.

    s3upload.py ENDPOINT REGION BUCKET KEY FILE
"""

import sys

import boto3
from botocore.config import Config

endpoint, region, bucket, key, path = sys.argv[1:6]
client = boto3.client("s3", endpoint_url=endpoint, region_name=region, config=Config(s3={"addressing_style": "path"}))
client.upload_file(path, bucket, key)
