"""An app's view of the sidecar: boto3's default credential chain, configured by the environment
only (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
Prints one JSON line: the resolved credentials, or the error the chain raised."""

import json
import sys

import boto3
import botocore

try:
    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise RuntimeError("no credentials found by the default chain")
    frozen = credentials.get_frozen_credentials()
    # RefreshableCredentials keeps the served Expiration only in a private field; read it if there.
    expiry = getattr(credentials, "_expiry_time", None)
    print(
        json.dumps(
            {
                "ok": True,
                "method": credentials.method,
                "accessKeyId": frozen.access_key,
                "secretAccessKey": frozen.secret_key,
                "sessionToken": frozen.token,
                "expiration": expiry.isoformat() if expiry is not None else None,
                "boto3": boto3.__version__,
                "botocore": botocore.__version__,
            }
        )
    )
except Exception as error:  # noqa: BLE001 - report whatever the chain raised
    print(json.dumps({"ok": False, "name": type(error).__name__, "message": str(error)}))
    sys.exit(1)
