"""Salesforce API errors as the sandbox raises them internally and renders them on the wire."""

from __future__ import annotations

from sandbox.server.http import Response, json_response


class SfApiError(ValueError):
    """An error Salesforce answers with a JSON array ``[{"message","errorCode","fields"?}]``.

    A ValueError, so control actions reusing store validation surface it as a 400 of the control API.
    """

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def response(self, headers: dict[str, str] | None = None) -> Response:
        item: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return json_response(self.status, [item], headers)


def invalid_session() -> SfApiError:
    return SfApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def not_found() -> SfApiError:
    return SfApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_type_message(name: str) -> str:
    return (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to append "
        "the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
    )


def not_found_type(name: str) -> SfApiError:
    """REST sobject paths answer an unknown object with 404, unlike SOQL's 400 INVALID_TYPE."""
    return SfApiError(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{name}'")
