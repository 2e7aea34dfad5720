#!/usr/bin/env python3
"""Structural checks of rendered Kubernetes manifests, without a cluster or kubectl.

  delivery-structure.py check --namespace NS --sources SRC FILE   every object of a chart render
  delivery-structure.py install RENDERED OUT                       writes manifests/install.yaml from a default render
  delivery-structure.py fresh RENDERED INSTALL                     fails when INSTALL is not RENDERED (+ header)

Each problem is printed on its own line as "file: kind/name: what is wrong"; the exit code is 1 when there is one.
The server's endpoints and annotation names are read from the C# sources, so the chart cannot drift from the code.
"""
import json
import base64
import os
import re
import subprocess
import sys
import tempfile

import yaml

# apiVersion → kinds this project renders, and whether each kind is namespaced.
KNOWN_KINDS = {
    ("v1", "Namespace"): False,
    ("v1", "ServiceAccount"): True,
    ("v1", "Secret"): True,
    ("v1", "ConfigMap"): True,
    ("v1", "Service"): True,
    ("apps/v1", "Deployment"): True,
    ("policy/v1", "PodDisruptionBudget"): True,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): False,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): False,
    ("rbac.authorization.k8s.io/v1", "Role"): True,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): True,
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): False,
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"): False,
    ("cert-manager.io/v1", "Issuer"): True,
    ("cert-manager.io/v1", "Certificate"): True,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): True,
    ("monitoring.coreos.com/v1", "PrometheusRule"): True,
}

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
RBAC_NAME = re.compile(r"^[a-z0-9]([-a-z0-9:.]*[a-z0-9])?$")

HEADER = """\
# Gatekeeper, installed without Helm: kubectl apply -f manifests/install.yaml
#
# Rendered from charts/gatekeeper with its default values (release "gatekeeper", namespace "gatekeeper-system") by
# scripts/ci/delivery-checks.sh --update; CI fails when this file no longer matches the chart.
#
# TLS: this file carries no certificate. At its first start Gatekeeper makes its own CA and serving certificate in the
# Secret gatekeeper-webhook-tls, patches the CA into its two webhook configurations, and rotates both before they
# expire (or install with Helm and tls.certManager.enabled=true for cert-manager).
"""

NAMESPACE_DOC = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "gatekeeper-system", "labels": {"app.kubernetes.io/part-of": "gatekeeper"}},
}



class Report:
    def __init__(self, file):
        self.file = file
        self.problems = []

    def add(self, obj, message):
        name = f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}" if isinstance(obj, dict) else "?"
        self.problems.append(f"{self.file}: {name}: {message}")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def source_files(root):
    for directory, _, files in os.walk(root):
        if os.sep + "bin" in directory or os.sep + "obj" in directory:
            continue
        for name in files:
            if name.endswith(".cs"):
                yield os.path.join(directory, name)


def server_contract(sources):
    """The HTTP endpoints `gatekeeper serve` maps and the annotation names it uses, read from the C# sources."""
    posts, gets, constants = set(), set(), {}
    for path in source_files(sources):
        text = open(path, encoding="utf-8-sig").read()
        for verb, route in re.findall(r'\.Map(Post|Get|Metrics)\(\s*"(/[^"]*)"', text):
            (posts if verb == "Post" else gets).add(route)
        if path.endswith("GatekeeperNames.cs"):
            prefix = re.search(r'const string Prefix\s*=\s*"([^"]+)"', text)
            for name, suffix in re.findall(r'const string (\w+)\s*=\s*Prefix\s*\+\s*"([^"]+)"', text):
                constants[name] = (prefix.group(1) if prefix else "") + suffix
    return posts, gets, constants


def selector_matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def check_render(path, namespace, sources):
    report = Report(path)
    docs = load(path)
    posts, gets, names = server_contract(sources)
    if not posts or not gets:
        report.problems.append(f"{path}: the server's endpoints (MapPost/MapGet) were not found under {sources}: "
                               "the webhook's sources must be on this branch")
    for needed in ("Migrations", "Plan"):
        if needed not in names:
            report.problems.append(f"{path}: GatekeeperNames.{needed} was not found under {sources}")

    seen = set()
    by_kind = {}
    for obj in docs:
        api, kind = obj.get("apiVersion"), obj.get("kind")
        meta = obj.get("metadata") or {}
        name = meta.get("name")
        if (api, kind) not in KNOWN_KINDS:
            report.add(obj, f"unknown apiVersion/kind {api}/{kind}")
            continue
        if not name:
            report.add(obj, "metadata.name is missing")
            continue
        namespaced = KNOWN_KINDS[(api, kind)]
        if namespaced and not meta.get("namespace"):
            report.add(obj, "a namespaced object without metadata.namespace")
        if not namespaced and meta.get("namespace"):
            report.add(obj, "a cluster-scoped object with metadata.namespace")
        pattern = RBAC_NAME if api.startswith("rbac.") else DNS_SUBDOMAIN
        if len(name) > 253 or not pattern.match(name):
            report.add(obj, f"name {name!r} is not a valid object name")
        if kind == "Service" and (len(name) > 63 or not DNS_LABEL.match(name)):
            report.add(obj, f"Service name {name!r} is not a DNS-1035 label")
        for key, value in (meta.get("labels") or {}).items():
            if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
                report.add(obj, f"label {key}={value!r} is not a valid label value")
        identity = (kind, meta.get("namespace"), name)
        if identity in seen:
            report.add(obj, "rendered twice")
        seen.add(identity)
        by_kind.setdefault(kind, []).append(obj)

    deployments = by_kind.get("Deployment", [])
    services = by_kind.get("Service", [])
    metrics_services = [s for s in services if ((s.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component") == "metrics"]
    webhook_services = [s for s in services if s not in metrics_services]
    if len(deployments) != 1:
        report.problems.append(f"{path}: expected one Deployment, found {len(deployments)}")
    if len(webhook_services) != 1:
        report.problems.append(f"{path}: expected one webhook Service, found {len(webhook_services)}")
    for service in webhook_services:
        # The API server must only ever call ready replicas.
        if (service.get("spec") or {}).get("publishNotReadyAddresses"):
            report.add(service, "the webhook Service lists unready replicas")
    for service in metrics_services:
        # A replica whose controller cannot run is unready; its metrics must still be scraped to say why.
        if not (service.get("spec") or {}).get("publishNotReadyAddresses"):
            report.add(service, "the metrics Service must list unready replicas (publishNotReadyAddresses)")
    for monitor in by_kind.get("ServiceMonitor", []):
        selector = (monitor["spec"].get("selector") or {}).get("matchLabels") or {}
        scraped = [s for s in services if selector_matches(selector, (s.get("metadata") or {}).get("labels") or {})]
        if scraped != metrics_services or not metrics_services:
            report.add(monitor, f"selects {[s['metadata']['name'] for s in scraped]}, not exactly the metrics Service")
    pod_labels, container_ports, secrets_needed = {}, {}, set()
    for deployment in deployments:
        pod_labels, container_ports, secrets_needed = check_deployment(report, deployment, gets)
    for service in services:
        check_service(report, service, pod_labels, container_ports)
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if not selector_matches((pdb["spec"].get("selector") or {}).get("matchLabels"), pod_labels):
            report.add(pdb, "its selector matches no Gatekeeper pod")

    secrets = {o["metadata"]["name"]: o for o in by_kind.get("Secret", [])}
    issued = {c["spec"]["secretName"]: c for c in by_kind.get("Certificate", [])}
    for needed in secrets_needed:
        if needed not in secrets and needed not in issued:
            report.problems.append(f"{path}: the Deployment mounts Secret {needed}, which neither the chart nor a cert-manager Certificate creates")

    service_ports = {p.get("port") for s in webhook_services for p in s["spec"].get("ports", [])}
    service_names = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in webhook_services}
    certificates = {f"{c['metadata']['namespace']}/{c['metadata']['name']}": c for c in by_kind.get("Certificate", [])}
    used_paths = []
    managed = managed_configuration(deployments, by_kind, namespace, report)
    for configuration in by_kind.get("MutatingWebhookConfiguration", []) + by_kind.get("ValidatingWebhookConfiguration", []):
        used_paths += check_webhooks(report, configuration, namespace, posts, names, service_names, service_ports, secrets, certificates, managed)
    for route in sorted(posts):
        if used_paths.count(route) != 1:
            report.problems.append(f"{path}: the server endpoint POST {route} is called by {used_paths.count(route)} webhooks, expected 1")
    for route in used_paths:
        if route not in posts:
            report.problems.append(f"{path}: a webhook calls {route}, which the server does not serve")

    check_rbac(report, by_kind, namespace)
    for monitor in by_kind.get("ServiceMonitor", []):
        port_names = {p.get("name") for s in services for p in s["spec"].get("ports", [])}
        for endpoint in monitor["spec"].get("endpoints", []):
            if endpoint.get("port") not in port_names:
                report.add(monitor, f"scrapes port {endpoint.get('port')!r}, which the Service does not have")
            if endpoint.get("path") not in gets:
                report.add(monitor, f"scrapes {endpoint.get('path')}, which the server does not serve")
    for rule in by_kind.get("PrometheusRule", []):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "alerts", "gatekeeper.rules.yaml"), encoding="utf-8") as f:
            plain = yaml.safe_load(f)
        if rule["spec"].get("groups") != plain.get("groups"):
            report.add(rule, "its groups differ from alerts/gatekeeper.rules.yaml")
    return report


def check_deployment(report, deployment, gets):
    spec = deployment.get("spec") or {}
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selector or not selector_matches(selector, labels):
        report.add(deployment, "spec.selector.matchLabels does not match the pod template's labels")
    pod = template.get("spec") or {}
    if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
        report.add(deployment, "the pod does not set runAsNonRoot")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    secrets = {v["secret"]["secretName"] for v in volumes.values() if "secret" in v}
    pod_context = pod.get("securityContext") or {}
    for volume in volumes.values():
        mode = (volume.get("secret") or {}).get("defaultMode", 0o644)
        # Secret files belong to root; a non-root process reads them through "other" bits or the fsGroup.
        if "secret" in volume and not mode & 0o004 and not (mode & 0o040 and pod_context.get("fsGroup") is not None):
            report.add(deployment, f"secret volume {volume['name']} (mode {oct(mode)}) is unreadable for the non-root user: set fsGroup")
    ports = {}
    containers = pod.get("containers") or []
    if not containers:
        report.add(deployment, "no containers")
    for container in containers:
        cname = container.get("name")
        if not container.get("image"):
            report.add(deployment, f"container {cname} has no image")
        for port in container.get("ports", []):
            ports[port.get("name")] = port.get("containerPort")
        context = container.get("securityContext") or {}
        if context.get("readOnlyRootFilesystem") is not True:
            report.add(deployment, f"container {cname} has a writable root filesystem")
        if context.get("allowPrivilegeEscalation") is not False:
            report.add(deployment, f"container {cname} allows privilege escalation")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            report.add(deployment, f"container {cname} does not drop all capabilities")
        if not (container.get("resources") or {}).get("requests"):
            report.add(deployment, f"container {cname} has no resource requests")
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes:
                report.add(deployment, f"container {cname} mounts volume {mount['name']}, which is not declared")
        for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = container.get(probe_name)
            if not probe:
                if probe_name != "startupProbe":
                    report.add(deployment, f"container {cname} has no {probe_name}")
                continue
            http = probe.get("httpGet") or {}
            if http.get("path") not in gets:
                report.add(deployment, f"{probe_name} calls {http.get('path')}, which the server does not serve")
            if http.get("port") not in ports and http.get("port") not in ports.values():
                report.add(deployment, f"{probe_name} uses port {http.get('port')!r}, which the container does not declare")
            if http.get("scheme") != "HTTPS":
                report.add(deployment, f"{probe_name} is not HTTPS (the server serves HTTPS only)")
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        # The controller learns what it needs about itself from its configuration, never by reading its own pod
        # (which RBAC scoped to watchNamespaces would refuse): its Jobs run exactly this image, in this namespace.
        if env.get("Controller__Enabled", "true").lower() != "false":
            if env.get("Controller__Image") != container.get("image"):
                report.add(deployment, f"Controller__Image is {env.get('Controller__Image')!r}, not the container's image {container.get('image')!r}")
            if env.get("Controller__Namespace") != deployment["metadata"].get("namespace"):
                report.add(deployment, f"Controller__Namespace is {env.get('Controller__Namespace')!r}, not the release namespace")
            account = f"{deployment['metadata'].get('namespace')}/{pod.get('serviceAccountName')}"
            if env.get("Controller__ServiceAccount") != account:
                report.add(deployment, f"Controller__ServiceAccount is {env.get('Controller__ServiceAccount')!r}, not {account!r}")
            # The Job pod's template fragment: what the controller accepts (MigrationJobPod), and never Gatekeeper's own names.
            template_text = env.get("Controller__JobPodTemplate")
            if template_text is not None:
                try:
                    template = json.loads(template_text)
                except ValueError as e:
                    report.add(deployment, f"Controller__JobPodTemplate is not JSON: {e}")
                    template = {}
                allowed = {"metadata": {"annotations", "labels"}, "spec": {"nodeSelector", "tolerations", "affinity", "priorityClassName", "serviceAccountName"}}
                for part, value in template.items():
                    extra = set(value or {}) - allowed.get(part, set()) if part in allowed else {part}
                    if extra:
                        report.add(deployment, f"Controller__JobPodTemplate sets {part}: {sorted(extra)}, which the controller refuses")
                for kind in ("annotations", "labels"):
                    for key in ((template.get("metadata") or {}).get(kind) or {}):
                        if key.startswith("gatekeeper.dev/") or key in ("app.kubernetes.io/managed-by", "app.kubernetes.io/component"):
                            report.add(deployment, f"Controller__JobPodTemplate sets {kind} {key}, which Gatekeeper sets itself")
        port_setting = env.get("Webhook__Port")
        if port_setting is not None and int(port_setting) not in ports.values():
            report.add(deployment, f"Webhook__Port {port_setting} is not a declared container port")
    if "/readyz" in gets and not any((c.get("readinessProbe") or {}).get("httpGet", {}).get("path") == "/readyz" for c in containers):
        report.add(deployment, "the readiness probe does not use /readyz")
    return labels, ports, secrets


def check_service(report, service, pod_labels, container_ports):
    spec = service.get("spec") or {}
    if not spec.get("selector") or not selector_matches(spec["selector"], pod_labels):
        report.add(service, "its selector matches no Gatekeeper pod")
    for port in spec.get("ports", []):
        target = port.get("targetPort")
        if target not in container_ports and target not in container_ports.values():
            report.add(service, f"targetPort {target!r} is not a container port")


def managed_configuration(deployments, by_kind, namespace, report):
    """The webhook configuration whose caBundle Gatekeeper patches itself (Webhook__ManagedWebhookConfiguration), when
    it may: RBAC grants get and patch on exactly that name, and get and update on its certificate Secret by name."""
    env = {e.get("name"): e.get("value") for d in deployments for c in d["spec"]["template"]["spec"].get("containers", []) for e in c.get("env") or []}
    name, secret = env.get("Webhook__ManagedWebhookConfiguration"), env.get("Webhook__ManagedCertificateSecret")
    if not name:
        return None
    if not secret or not secret.startswith(namespace + "/") or not env.get("Webhook__ManagedCertificateDnsNames__0"):
        report.problems.append(f"{report.file}: a managed certificate needs Webhook__ManagedCertificateSecret in {namespace} and Webhook__ManagedCertificateDnsNames")
        return name
    if not (by_kind.get("ClusterRole") or by_kind.get("Role")):
        return name  # rbac.create=false
    cluster_rules = [rule for role in by_kind.get("ClusterRole", []) for rule in role.get("rules") or []]
    for resource in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
        if not any(resource in rule.get("resources", []) and name in (rule.get("resourceNames") or []) and {"get", "patch"} <= set(rule.get("verbs", [])) for rule in cluster_rules):
            report.problems.append(f"{report.file}: Gatekeeper patches the caBundle of {resource} {name}, but no ClusterRole grants get and patch on it")
    own_rules = [rule for role in by_kind.get("Role", []) if role["metadata"].get("namespace") == namespace for rule in role.get("rules") or []]
    secret_name = secret.split("/", 1)[1]
    if not any("secrets" in rule.get("resources", []) and secret_name in (rule.get("resourceNames") or []) and {"get", "update"} <= set(rule.get("verbs", [])) for rule in own_rules):
        report.problems.append(f"{report.file}: Gatekeeper keeps its certificate in Secret {secret}, but no Role grants get and update on it by name")
    return name


def check_webhooks(report, configuration, namespace, posts, names, service_names, service_ports, secrets, certificates, managed):
    used = []
    webhooks = configuration.get("webhooks") or []
    if not webhooks:
        report.add(configuration, "no webhooks")
    annotations = (configuration.get("metadata") or {}).get("annotations") or {}
    injected = annotations.get("cert-manager.io/inject-ca-from")
    for webhook in webhooks:
        name = webhook.get("name", "")
        where = f"webhook {name}"
        if name.count(".") < 2:
            report.add(configuration, f"{where}: the name must be fully qualified (three segments or more)")
        if "v1" not in (webhook.get("admissionReviewVersions") or []):
            report.add(configuration, f"{where}: admissionReviewVersions lacks v1")
        if webhook.get("sideEffects") not in ("None", "NoneOnDryRun"):
            report.add(configuration, f"{where}: sideEffects must be None or NoneOnDryRun (kubectl apply --dry-run=server)")
        if webhook.get("failurePolicy") not in ("Fail", "Ignore"):
            report.add(configuration, f"{where}: failurePolicy must be Fail or Ignore")
        timeout = webhook.get("timeoutSeconds")
        if not isinstance(timeout, int) or not 1 <= timeout <= 30:
            report.add(configuration, f"{where}: timeoutSeconds must be 1..30, got {timeout!r}")
        client = webhook.get("clientConfig") or {}
        service = client.get("service") or {}
        if (service.get("namespace"), service.get("name")) not in service_names:
            report.add(configuration, f"{where}: calls Service {service.get('namespace')}/{service.get('name')}, which is not rendered")
        if service.get("port") not in service_ports:
            report.add(configuration, f"{where}: calls port {service.get('port')}, which the Service does not expose")
        route = service.get("path")
        used.append(route)
        if not client.get("caBundle"):
            if (not injected or injected not in certificates) and configuration["metadata"]["name"] != managed:
                report.add(configuration, f"{where}: no caBundle, no cert-manager Certificate to inject one, and Gatekeeper does not patch it")
        else:
            check_ca_bundle(report, configuration, where, client["caBundle"], secrets, service)

        resources = {r for rule in webhook.get("rules", []) for r in rule.get("resources", [])}
        operations = {o for rule in webhook.get("rules", []) for o in rule.get("operations", [])}
        conditions = webhook.get("matchConditions") or []
        expressions = " ".join(c.get("expression", "") for c in conditions)
        if len({c.get("name") for c in conditions}) != len(conditions):
            report.add(configuration, f"{where}: matchConditions names are not unique")
        if resources == {"deployments"}:
            expected = names.get("Migrations")
            if not route or not route.endswith("/deployments"):
                report.add(configuration, f"{where}: Deployment rules sent to {route}")
        elif resources == {"pods"}:
            expected = names.get("Plan")
            if operations != {"CREATE"}:
                report.add(configuration, f"{where}: the pod webhook must see CREATE only (scheduling gates are set at creation)")
            if not route or not route.endswith("/pods"):
                report.add(configuration, f"{where}: pod rules sent to {route}")
        else:
            report.add(configuration, f"{where}: unexpected resources {sorted(resources)}")
            expected = None
        if expected and f"'{expected}' in object.metadata.annotations" not in expressions:
            report.add(configuration, f"{where}: matchConditions do not test the {expected} annotation")
        if resources == {"deployments"} and configuration.get("kind") == "MutatingWebhookConfiguration":
            # Opting out must reach Gatekeeper, which then removes the stamps that would hold the pods.
            if f"'{names.get('Migrations')}' in oldObject.metadata.annotations" not in expressions:
                report.add(configuration, f"{where}: matchConditions do not test the old object, so removing the opt-in annotation leaves the stamps")
            if f"'{names.get('Plan')}' in object.spec.template.metadata.annotations" not in expressions:
                report.add(configuration, f"{where}: matchConditions do not send stamped pod templates, so stale stamps hold pods")

        excluded = set()
        selector = webhook.get("namespaceSelector") or {}
        for expression in selector.get("matchExpressions", []):
            if expression.get("key") == "kubernetes.io/metadata.name" and expression.get("operator") == "NotIn":
                excluded |= set(expression.get("values", []))
        for needed in ("kube-system", namespace):
            if needed not in excluded:
                report.add(configuration, f"{where}: namespaceSelector does not exclude {needed}")
    return used


def check_ca_bundle(report, configuration, where, bundle, secrets, service):
    """The caBundle must be the CA in the TLS Secret, and that CA must have signed a certificate for the Service."""
    tls = next((s for s in secrets.values() if (s.get("data") or {}).get("ca.crt") == bundle), None)
    if tls is None:
        report.add(configuration, f"{where}: caBundle is not the ca.crt of any rendered Secret")
        return
    dns_name = f"{service.get('name')}.{service.get('namespace')}.svc"
    with tempfile.TemporaryDirectory() as directory:
        ca, cert = os.path.join(directory, "ca.crt"), os.path.join(directory, "tls.crt")
        open(ca, "wb").write(base64.b64decode(tls["data"]["ca.crt"]))
        open(cert, "wb").write(base64.b64decode(tls["data"]["tls.crt"]))
        verify = subprocess.run(["openssl", "verify", "-CAfile", ca, "-purpose", "sslserver", cert], capture_output=True, text=True)
        if verify.returncode != 0:
            detail = " ".join((verify.stdout + " " + verify.stderr).split())
            report.add(configuration, f"{where}: the serving certificate does not verify against the caBundle ({detail})")
        text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"], capture_output=True, text=True).stdout
        if f"DNS:{dns_name}" not in text:
            report.add(configuration, f"{where}: the serving certificate is not valid for {dns_name}")


def check_rbac(report, by_kind, release_namespace):
    roles = {("ClusterRole", o["metadata"]["name"]) for o in by_kind.get("ClusterRole", [])}
    roles |= {("Role", o["metadata"]["namespace"], o["metadata"]["name"]) for o in by_kind.get("Role", [])}
    accounts = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in by_kind.get("ServiceAccount", [])}
    deployments = by_kind.get("Deployment", [])
    account_used = None
    if deployments:
        pod = deployments[0]["spec"]["template"]["spec"]
        account_used = (deployments[0]["metadata"]["namespace"], pod.get("serviceAccountName"))
    for kind in ("ClusterRole", "Role"):
        for role in by_kind.get(kind, []):
            for rule in role.get("rules") or []:
                if not rule.get("verbs") or not rule.get("resources") or "apiGroups" not in rule:
                    report.add(role, f"a rule without verbs, resources or apiGroups: {rule}")
                if "*" in rule.get("verbs", []) or "*" in rule.get("resources", []) or "*" in rule.get("apiGroups", []):
                    report.add(role, f"a wildcard rule: {rule}")
                if "secrets" in rule.get("resources", []):
                    verbs = set(rule.get("verbs", []))
                    own = kind == "Role" and role["metadata"].get("namespace") == release_namespace
                    if not own and verbs - {"get"}:
                        report.add(role, f"secrets may only be read one by one (get): {rule['verbs']}")
                    # In its own namespace Gatekeeper keeps Secrets of its own (the Job signing key, its CA): it may
                    # create them, and read or update only those, by name.
                    if own and verbs - {"get", "create", "update"}:
                        report.add(role, f"secrets in the release namespace allow only get, create and update: {rule['verbs']}")
                    if own and verbs & {"get", "update"} and not rule.get("resourceNames"):
                        report.add(role, f"secrets in the release namespace may be read or updated only by name (resourceNames): {rule}")
                if {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"} & set(rule.get("resources", [])):
                    # Gatekeeper patches the caBundle of its own configurations only: never all of them (that would let
                    # it turn off every other admission webhook of the cluster).
                    if not rule.get("resourceNames") or set(rule.get("verbs", [])) - {"get", "patch"}:
                        report.add(role, f"webhook configurations may only be read and patched by name: {rule}")
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        for binding in by_kind.get(kind, []):
            ref = binding.get("roleRef") or {}
            key = ("ClusterRole", ref.get("name")) if ref.get("kind") == "ClusterRole" else ("Role", binding["metadata"].get("namespace"), ref.get("name"))
            if key not in roles:
                report.add(binding, f"binds {ref.get('kind')} {ref.get('name')}, which is not rendered")
            for subject in binding.get("subjects") or []:
                subject_key = (subject.get("namespace"), subject.get("name"))
                if subject.get("kind") != "ServiceAccount" or subject_key != account_used:
                    report.add(binding, f"binds {subject}, which is not the Deployment's ServiceAccount")
    check_controller_start(report, by_kind, release_namespace, account_used)
    if account_used and by_kind.get("ServiceAccount") and account_used not in accounts:
        report.problems.append(f"{report.file}: the Deployment runs as ServiceAccount {account_used[1]}, which is not rendered")


# What every replica calls before it can be ready, and in which scope: the Lease and the Job signing key in its own
# namespace, and the cluster-wide lists and watches of the applied-plan watcher and the controller's informers.
CONTROLLER_START = [
    ("own", "coordination.k8s.io", "leases", ["get", "create", "update", "delete"]),
    ("own", "", "secrets", ["get", "create"]),
    ("cluster", "apps", "deployments", ["list", "watch"]),
    ("cluster", "batch", "jobs", ["list", "watch"]),
    ("cluster", "", "pods", ["list", "watch"]),
]


def check_controller_start(report, by_kind, release_namespace, account_used):
    if not account_used or not (by_kind.get("ClusterRole") or by_kind.get("Role")):
        return  # rbac.create=false: RBAC is the operator's own
    rules_of = {}
    for kind in ("ClusterRole", "Role"):
        for role in by_kind.get(kind, []):
            key = (kind, role["metadata"].get("namespace") if kind == "Role" else None, role["metadata"]["name"])
            rules_of[key] = role.get("rules") or []
    granted = {"own": set(), "cluster": set()}
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        for binding in by_kind.get(kind, []):
            if not any((s.get("namespace"), s.get("name")) == account_used for s in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            ns = binding["metadata"].get("namespace")
            key = ("ClusterRole", None, ref.get("name")) if ref.get("kind") == "ClusterRole" else ("Role", ns, ref.get("name"))
            scopes = ["own", "cluster"] if kind == "ClusterRoleBinding" else (["own"] if ns == release_namespace else [])
            for rule in rules_of.get(key, []):
                for scope in scopes:
                    for group in rule.get("apiGroups", []):
                        for resource in rule.get("resources", []):
                            for verb in rule.get("verbs", []):
                                granted[scope].add((group, resource, verb))
    for scope, group, resource, verbs in CONTROLLER_START:
        for verb in verbs:
            if (group, resource, verb) not in granted[scope]:
                where = "in the release namespace" if scope == "own" else "in all namespaces (a ClusterRoleBinding)"
                report.problems.append(f"{report.file}: the controller needs {verb} {group or 'core'}/{resource} {where} to start, and no binding grants it")


def cluster_secret_readers(path):
    """ClusterRoles that read Secrets and are bound cluster-wide (a ClusterRoleBinding): none in the default install."""
    docs = load(path)
    readers = {o["metadata"]["name"] for o in docs if o.get("kind") == "ClusterRole"
               for rule in o.get("rules") or [] if "secrets" in rule.get("resources", []) and set(rule.get("verbs", [])) & {"get", "list", "watch"}}
    return [f"{path}: ClusterRoleBinding {o['metadata']['name']} binds ClusterRole {o['roleRef']['name']}, which reads Secrets in every namespace"
            for o in docs if o.get("kind") == "ClusterRoleBinding" and (o.get("roleRef") or {}).get("name") in readers]


def install_text(rendered_path):
    """The default render with the Namespace first. Nothing in it is generated: it is compared byte for byte."""
    rendered = open(rendered_path, encoding="utf-8").read()
    return HEADER + "---\n" + yaml.safe_dump(NAMESPACE_DOC, sort_keys=False) + rendered.lstrip()


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "check":
        args = dict(zip(argv[2::2], argv[3::2]))
        file = argv[-1]
        report = check_render(file, args["--namespace"], args["--sources"])
        problems = report.problems
    elif command == "no-cluster-secrets":
        problems = [p for path in argv[2:] for p in cluster_secret_readers(path)]
    elif command == "install":
        text = install_text(argv[2])
        with open(argv[3], "w", encoding="utf-8") as f:
            f.write(text)
        problems = []
    elif command == "fresh":
        expected = install_text(argv[2])
        actual = open(argv[3], encoding="utf-8").read() if os.path.exists(argv[3]) else ""
        problems = []
        if expected != actual:
            import difflib
            diff = list(difflib.unified_diff(actual.splitlines(), expected.splitlines(), argv[3], "chart render", lineterm="", n=1))
            problems = [f"{argv[3]} is stale: run scripts/ci/delivery-checks.sh --update"] + diff[:40]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
