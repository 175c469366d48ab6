"""boto3 as the independent reader of what the S3 client wrote (used by the tests).

Usage (credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):
  s3_read.py ENDPOINT REGION BUCKET object KEY   -> {"size", "sha256", "metadata", "content_type"}
  s3_read.py ENDPOINT REGION BUCKET list PREFIX  -> {"keys": [...]}
  s3_read.py ENDPOINT REGION BUCKET uploads      -> {"uploads": [{"key", "upload_id"}]}
  s3_read.py ENDPOINT REGION BUCKET presign KEY SECONDS -> {"url"} (boto3's presigned GetObject)
  s3_read.py ENDPOINT REGION BUCKET checksum KEY PART_SIZE -> {"stored", "expected", "parts"}: the
      CRC32 the server keeps for the object (null when none; without AWS's "-N" suffix, which moto
      leaves out) and the composite CRC32 computed here from the object's bytes in parts of
      PART_SIZE (base64 of the CRC32 of the parts' big-endian CRC32s), and the number of parts
"""

import base64
import hashlib
import zlib
import json
import sys

import boto3
from botocore.config import Config


def main() -> None:
    endpoint, region, bucket, command = sys.argv[1:5]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    if command == "object":
        response = s3.get_object(Bucket=bucket, Key=sys.argv[5])
        digest = hashlib.sha256()
        size = 0
        for chunk in response["Body"].iter_chunks(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        print(json.dumps({
            "size": size,
            "sha256": digest.hexdigest(),
            "metadata": response.get("Metadata", {}),
            "content_type": response.get("ContentType"),
        }))
    elif command == "list":
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=sys.argv[5]):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        print(json.dumps({"keys": keys}))
    elif command == "uploads":
        response = s3.list_multipart_uploads(Bucket=bucket)
        uploads = [{"key": u["Key"], "upload_id": u["UploadId"]} for u in response.get("Uploads", [])]
        print(json.dumps({"uploads": uploads}))
    elif command == "presign":
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": sys.argv[5]}, ExpiresIn=int(sys.argv[6])
        )
        print(json.dumps({"url": url}))
    elif command == "checksum":
        key, part_size = sys.argv[5], int(sys.argv[6])
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        crcs = [zlib.crc32(body[i:i + part_size]).to_bytes(4, "big") for i in range(0, len(body), part_size)]
        expected = base64.b64encode(zlib.crc32(b"".join(crcs)).to_bytes(4, "big")).decode()
        stored = head.get("ChecksumCRC32")
        print(json.dumps({"stored": stored.split("-")[0] if stored else None, "expected": expected,
                          "parts": len(crcs)}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
