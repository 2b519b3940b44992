"""Multipart uploads (bytes, a path or a file object, streamed, not signed) and loosely-typed calls."""

from __future__ import annotations

import io
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import httpx
import pytest

from tests.fake import FakeTikTok, Seen
from tiktokshop import ValidationError

UPLOAD = ("POST", "/product/202309/images/upload")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _parts(seen: Seen) -> dict[str, tuple[str | None, bytes]]:
    raw = b"Content-Type: " + seen.headers["content-type"].encode() + b"\r\n\r\n" + seen.content
    message = BytesParser(policy=HTTP).parsebytes(raw)
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


@pytest.fixture
def uploads(fake: FakeTikTok) -> FakeTikTok:
    fake.on(*UPLOAD, {"uri": "tos-img-1", "url": "https://img.test/1.png", "width": 1, "height": 1})
    return fake


def test_upload_bytes(uploads: FakeTikTok) -> None:
    result = uploads.client().product.upload_product_image(data=PNG, use_case="MAIN_IMAGE")
    assert result.uri == "tos-img-1"
    seen = uploads.seen[-1]
    assert seen.signature_ok, "the multipart body is left out of the signature"
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = _parts(seen)
    assert parts["data"][1] == PNG and parts["use_case"][1] == b"MAIN_IMAGE"
    assert "shop_cipher" not in seen.query  # the reference does not scope image uploads by shop


def test_upload_from_a_path_streams_and_closes(uploads: FakeTikTok, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(PNG * 64)
    uploads.client().product.upload_product_image(data=path)
    assert _parts(uploads.seen[-1])["data"] == ("photo.png", PNG * 64)
    uploads.client().product.upload_product_image(data=str(path))
    assert _parts(uploads.seen[-1])["data"][1] == PNG * 64


def test_upload_file_object_is_streamed_not_read_whole(uploads: FakeTikTok) -> None:
    class Tracking(io.BytesIO):
        biggest = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            Tracking.biggest = max(Tracking.biggest, len(chunk))
            return chunk

    big = PNG * 2000  # about 2 MB
    uploads.client().product.upload_product_image(data=Tracking(big))
    assert _parts(uploads.seen[-1])["data"][1] == big
    assert 0 < Tracking.biggest < len(big), "httpx read the file in chunks"


def test_upload_retried_after_connect_error_sends_the_whole_file(uploads: FakeTikTok) -> None:
    attempts = []

    def transport(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            raise httpx.ConnectError("refused", request=request)
        return uploads(request)

    client = uploads.client(http_client=httpx.Client(transport=httpx.MockTransport(transport)))
    stream = io.BytesIO(b"xx" + PNG)
    stream.read(5)  # the first attempt consumed nothing; a file object is sent whole
    client.product.upload_product_image(data=stream)
    assert _parts(uploads.seen[-1])["data"][1] == b"xx" + PNG


@pytest.mark.parametrize("bad", [12, "/no/such/file.png", None])
def test_bad_file_argument(uploads: FakeTikTok, bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        uploads.client().product.upload_product_image(data=bad)  # type: ignore[arg-type]
    assert info.value.field == "data"
    assert uploads.seen == []


def test_loose_operation_passes_query_through(fake: FakeTikTok) -> None:
    path = "/affiliate_seller/202412/conversations/messages/list/newest"
    fake.on("POST", path, {"messages": [{"id": "m1"}], "new_field": 1})
    result = fake.client().affiliate_seller.get_newest_conversation_messages(
        query={"page_size": 10, "conversation_id": "c1", "with_read": True}
    )
    assert result.model_extra == {"messages": [{"id": "m1"}], "new_field": 1}
    seen = fake.seen[-1]
    assert seen.query["conversation_id"] == "c1" and seen.query["with_read"] == "true"
    assert seen.signature_ok


def test_loose_operation_with_body(fake: FakeTikTok) -> None:
    fake.on("DELETE", "/promotion/202406/coupons/search", {"coupons": []})
    fake.client().promotion.search_coupons_delete(query={"page_size": 10}, body={"status": "PAID"})
    seen = fake.seen[-1]
    assert seen.json == {"status": "PAID"} and seen.query["page_size"] == "10" and seen.signature_ok


def test_upload_without_its_optional_files_is_still_multipart(fake: FakeTikTok) -> None:
    fake.on("POST", "/return_refund/202405/returns/shipping_documents", {})
    fake.client().return_refund.upload_return_shipping_information(
        return_ids=["r1"], tracking_number="TRK1", return_provider_id="P1"
    )
    seen = fake.seen[-1]
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="tracking_number"' in seen.content and b"TRK1" in seen.content
    assert seen.signature_ok
