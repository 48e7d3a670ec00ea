"""Describe payloads (global, per object, basic info) built from the schema metadata."""

from __future__ import annotations

from typing import Any

from sandbox.model.salesforce import OBJECTS, SfField, SfObject
from sandbox.server.salesforce.soql import address_parts

_NUMBER_DIGITS = {"currency": (18, 2), "double": (18, 2), "percent": (3, 0)}
_NOT_FILTERABLE = {"textarea", "address"}
_NOT_SORTABLE = {"textarea", "multipicklist", "address"}


def _urls(obj: SfObject, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def _object_flags(obj: SfObject) -> dict[str, Any]:
    history = obj.name.endswith("History")
    return {
        "activateable": False,
        "createable": not history,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": not history,
        "deprecatedAndHidden": False,
        "feedEnabled": not history,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural or f"{obj.label}s",
        "layoutable": not history,
        "mergeable": obj.name in ("Lead", "Contact", "Account"),
        "mruEnabled": not history,
        "name": obj.name,
        "queryable": True,
        "replicateable": obj.replicateable,
        "retrieveable": True,
        "searchable": not history,
        "triggerable": not history,
        "undeletable": not history,
        "updateable": not history,
    }


def global_describe(version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [{**_object_flags(o), "urls": _urls(o, version)} for o in OBJECTS.values()],
    }


def basic_info(obj: SfObject, version: str) -> dict[str, Any]:
    return {"objectDescribe": {**_object_flags(obj), "urls": _urls(obj, version)}, "recentItems": []}


def _field(f: SfField) -> dict[str, Any]:
    precision, scale = _NUMBER_DIGITS.get(f.type, (0, 0))
    picklist = [
        {"active": True, "defaultValue": value == f.default_value, "label": value, "validFor": None, "value": value}
        for value in f.picklist
    ]
    return {
        "aggregatable": f.type not in _NOT_SORTABLE,
        "autoNumber": False,
        "byteLength": f.length * 3,
        "calculated": f.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": f.default_value is not None
        or f.name
        in (
            "Id",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
            "OwnerId",
        )
        or f.type == "boolean",
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 9 if f.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": None,
        "filterable": f.type not in _NOT_FILTERABLE,
        "filteredLookupInfo": None,
        "groupable": f.type not in _NOT_SORTABLE,
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": f.name == "Id" or f.type == "email",
        "inlineHelpText": None,
        "label": f.label,
        "length": f.length,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": f.name == "Name",
        "namePointing": len(f.reference_to) > 1,
        "nillable": f.nillable,
        "permissionable": f.nillable and not f.calculated,
        "picklistValues": picklist,
        "polymorphicForeignKey": len(f.reference_to) > 1,
        "precision": precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": False,
        "scale": scale,
        "searchPrefilterable": False,
        "soapType": f.soap_type,
        "sortable": f.type not in _NOT_SORTABLE,
        "type": f.type,
        "unique": False,
        "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


def object_describe(obj: SfObject, version: str) -> dict[str, Any]:
    fields = {f.name: _field(f) for f in obj.fields}
    # Component fields name their compound field, as describe reports it.
    for compound in (f for f in obj.fields if f.type == "address"):
        for part in address_parts(obj, compound):
            fields[part.name]["compoundFieldName"] = compound.name
    return {
        **_object_flags(obj),
        "actionOverrides": [],
        "childRelationships": [],
        "compactLayoutable": True,
        "fields": list(fields.values()),
        "listviewable": None,
        "lookupLayoutable": None,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "recordTypeInfos": [],
        "searchLayoutable": True,
        "supportedScopes": [],
        "urls": _urls(obj, version),
    }
