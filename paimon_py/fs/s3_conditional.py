"""``S3ConditionalCreate``: creates an object only if no object has its key, in one request.

A ``PUT`` with ``If-None-Match: *`` succeeds only where the key is free (HTTP 412 otherwise), and
S3 decides it atomically: two committers racing for the same snapshot id cannot both win, as on
a local filesystem (``os.link``). S3 has honoured the header since August 2024, and so do MinIO
and other S3-compatible servers; one that ignores it overwrites, which ``FileIO.try_create``'s
existence check before the request narrows to a race, as before. pyarrow's S3 filesystem has no
conditional write, so this request goes through botocore, with the same options (``S3_CONFIG``)
and, without keys, the same AWS credential chain.
"""

from __future__ import annotations

import time
from typing import Mapping

CONFLICT_RETRIES = 50
"""S3 answers 409 (``ConditionalRequestConflict``) while another conditional write of the key is
in flight; the request is repeated (50 ms apart) until one of them has won."""


class S3ConditionalCreate:
    def __init__(self, options: Mapping[str, str], path_style: bool):
        """``options``: the catalog's ``s3.*`` options (``S3_CONFIG``); none: botocore's defaults.
        ``path_style``: ``s3.path.style.access``, as the catalog's S3 filesystem reads it."""
        self.options = dict(options)
        self.path_style = path_style
        self._client = None

    def create(self, path: str, data: bytes) -> bool:
        """Writes ``data`` to ``path`` (``bucket/key``, a pyarrow S3 path) if no object is there;
        False if one is."""
        from botocore.exceptions import ClientError
        bucket, key = path.split("/", 1)
        for _ in range(CONFLICT_RETRIES):
            try:
                self.client().put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
                return True
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code")
                if code == "PreconditionFailed":
                    return False
                if code != "ConditionalRequestConflict":
                    raise OSError(f"cannot create s3://{path}: {e}") from e
            time.sleep(0.05)
        raise OSError(f"cannot create s3://{path}: other writers kept it busy — try again")

    def client(self):
        if self._client is None:
            import botocore.session
            from botocore.config import Config
            session = botocore.session.get_session()
            self._client = session.create_client(
                "s3", region_name=self.options.get("s3.region") or session.get_config_variable("region") or "us-east-1",
                endpoint_url=self.options.get("s3.endpoint"), aws_access_key_id=self.options.get("s3.access-key"),
                aws_secret_access_key=self.options.get("s3.secret-key"),
                aws_session_token=self.options.get("s3.session-token"),
                config=Config(s3={"addressing_style": "path" if self.path_style else "virtual"}))
        return self._client

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_client": None}  # a client does not travel
