"""An app's view of the sidecar from Python: boto3's default credential chain, configured by the
environment only (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
doing S3 I/O against a store.

    python3 boto3_s3.py <endpoint> <bucket> [stop-file]

Creates the bucket, then runs rounds of PutObject, GetObject (bytes checked) and ListObjectsV2
(key checked): one round, or rounds until stop-file exists. Prints one JSON line per S3 call,
{"op","ok","accessKeyId","error"}, with the access key the request was signed with, then one
line naming the client, its version and the credential source. test/helpers/s3-clients.ts
drives it (the same protocol as js-s3.mjs and go-s3)."""

import json
import os
import re
import sys
import time

import boto3
import botocore
from botocore.config import Config

endpoint, bucket = sys.argv[1], sys.argv[2]
stop_file = sys.argv[3] if len(sys.argv) > 3 else None

session = boto3.Session()
# No SDK retries: a failed S3 call must show up as failed, not be retried away.
s3 = session.client(
    "s3",
    endpoint_url=endpoint,
    config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}),
)
signed_with = {"key": None}


def record_key(request, **_):
    """before-send runs after signing: the Authorization header is the one sent."""
    auth = request.headers.get("Authorization", b"")
    auth = auth.decode() if isinstance(auth, bytes) else auth
    match = re.search(r"Credential=([^/]+)/", auth)
    signed_with["key"] = match.group(1) if match else None


s3.meta.events.register("before-send.s3", record_key)


def call(op, fn):
    signed_with["key"] = None
    line = {"op": op, "ok": True}
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - every failure is a failed S3 call
        line.update(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    line["accessKeyId"] = signed_with["key"]
    print(json.dumps(line), flush=True)


def get(key, body):
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if got != body:
        raise ValueError(f"read back {got!r}")


def list_(key):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    if key not in keys:
        raise ValueError(f"the listing misses {key}")


call("CreateBucket", lambda: s3.create_bucket(Bucket=bucket))
round_ = 0
while True:
    key, body = f"boto3-{round_}.txt", f"written by boto3, round {round_}".encode()
    call("PutObject", lambda: s3.put_object(Bucket=bucket, Key=key, Body=body))
    call("GetObject", lambda: get(key, body))
    call("ListObjects", lambda: list_(key))
    round_ += 1
    if stop_file is None or os.path.exists(stop_file):
        break
    time.sleep(0.1)  # client pacing while the test changes credentials underneath

credentials = session.get_credentials()
print(
    json.dumps(
        {
            "client": "boto3",
            "version": f"boto3 {boto3.__version__}, botocore {botocore.__version__}, Python {sys.version.split()[0]}",
            "credentialSource": credentials.method if credentials else None,
        }
    ),
    flush=True,
)
