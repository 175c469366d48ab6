"""moto's S3 server on loopback for the off-site benchmark, with signatures checked as on AWS.

The first three requests go unchecked (`INITIAL_NO_AUTH_ACTION_COUNT=3`): they create an IAM
user, its access key and an allow-all policy; from then on every request must be signed by that
key, by boto3 and by us alike.
"""

import json
import os
import signal
import subprocess
import time
import urllib.request

from server import free_port

POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


class S3Server:
    """A moto server process; use as a context manager. `client()` is a boto3 S3 client."""

    def __init__(self, venv, log_path, bucket="bench-offsite", region="us-east-1"):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.bucket = bucket
        self.region = region
        self.log = open(log_path, "w")
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        self.process = subprocess.Popen([os.path.join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p",
                                         str(self.port)], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()
        import boto3  # the venv's; bench.py runs with the venv's Python when this section is chosen

        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name=region, aws_access_key_id="bootstrap",
                           aws_secret_access_key="bootstrap")
        iam.create_user(UserName="bench")
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        iam.put_user_policy(UserName="bench", PolicyName="all", PolicyDocument=POLICY)
        self.access_key_id = key["AccessKeyId"]
        self.secret_access_key = key["SecretAccessKey"]
        self.client().create_bucket(Bucket=bucket)

    def _wait_ready(self, timeout=60):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("moto_server did not become ready")

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
                            config=Config(s3={"addressing_style": "path"}))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
