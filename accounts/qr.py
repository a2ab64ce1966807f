"""QR codes for TOTP enrolment, as a data: URI (no inline SVG styles, no extra request carrying the secret)."""

import base64
import io


def qr_data_uri(text: str) -> str:
    # Loaded on the first enrolment, not with the settings pages' URLs at start-up of every process.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
