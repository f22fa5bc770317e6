"""The SAM template as the tests see it: read, given a CodeUri, expanded to plain
CloudFormation with aws-sam-translator (what CloudFormation's AWS::Serverless
transform does), and the modes the stack tests deploy.

Imported by test_stack.py and test_iam.py; not a test itself.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
REGION = "us-east-1"

# A hosted zone id and its name, for the modes that scope the roles to zones.
ZONE_ID = "Z0123456789ABCDEFGHIJ"
ZONE_NAME = "home.example.com"
DDNS = {"DdnsEndpoint": "true", "DdnsZoneIds": ZONE_ID, "DdnsZoneNames": ZONE_NAME}

# Each mode the stack tests create: its parameter overrides.
MODES: dict[str, dict[str, str]] = {
    "default": {},
    # DdnsIamEndpoint=true without DdnsEndpoint: no AWS_IAM URL (it needs the endpoint).
    "buffered": {"BufferedMode": "true", "DdnsIamEndpoint": "true"},
    "ddns-endpoint": dict(DDNS),
    "alarms-email": {"AlarmEmail": "ops@example.com"},
    "alarms-topic": {"AlarmTopicArn": f"arn:aws:sns:{REGION}:123456789012:existing-alarms"},
    # Direct mode with the two optional event sources: Auto Scaling's lifecycle actions
    # and ECS tasks (EcsTasks=true in buffered mode: "all").
    "hooks-and-tasks": {"LifecycleHooks": "true", "HookOnConflict": "abandon", "WaitInsync": "true",
                        "EcsTasks": "true"},
    "all": {
        **DDNS,
        "DdnsIamEndpoint": "true",
        "BufferedMode": "true",
        "AlarmEmail": "ops@example.com",
        "Dashboard": "true",
        "HostedZoneIds": ZONE_ID,
        "ReconcileSchedule": "1",
        "MetricsNamespace": "ec2-ddns/all",
        "OnStop": "keep",
        "LifecycleHooks": "true",
        "EcsTasks": "true",
    },
}


def load() -> dict[str, Any]:
    """infra/template.yaml as a dict, intrinsics in their long form."""
    with open(TEMPLATE, encoding="utf-8") as f:
        return yaml_parse(f.read())


def translate(template: dict[str, Any], code_uri: str = "s3://ec2-ddns-code/bootstrap.zip",
              parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The template expanded to plain CloudFormation, each function's CodeUri set to
    `code_uri` (`sam build` and `sam package` would put the built zip's S3 location there)."""
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(sam, parameter_values=dict(parameters or {}))
