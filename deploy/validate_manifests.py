"""Renders Eckart's kustomizations offline and validates what they produce.

kustomize and kubectl are not installable from Debian or PyPI here, so this renders the subset of
kustomize that deploy/kubernetes uses (resources, namespace, labels, images, secretGenerator,
configMapGenerator with disableNameSuffixHash) and refuses any other kustomization field, so a
manifest change it cannot render fails instead of being skipped. Then:
- every built-in object is validated with kubernetes-validate (strict: unknown fields are errors)
  against the Kubernetes version given with --kubernetes-version;
- InferencePool objects against the openAPIV3Schema of the pinned CRD (deploy/schemas/), plus its
  CEL rule (port required for a Service picker);
- HTTPRoute backendRefs must name an InferencePool of the same render;
- cross references: Service and InferencePool selectors match the Deployment's pod labels, the pool's
  target port is a container port, Secrets / ConfigMaps / PVCs the pods use are rendered, the adapter
  PVC is ReadWriteMany, probes hit /readyz and /healthz, every container runs non-root with a
  read-only root filesystem, the pod's uid is the Dockerfile's USER.

Usage: validate_manifests.py --kubernetes-version 1.34.0 --crd CRD --dockerfile FILE KUSTOMIZATION_DIR...
Exits 1 with one line per problem.
"""
import argparse
import copy
import os
import re
import sys

import jsonschema
import kubernetes_validate
import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources", "images",
                    "secretGenerator", "configMapGenerator", "generatorOptions"}
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}

problems = []


def problem(text):
    problems.append(text)


def load_documents(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def generated(directory, spec, kind, options):
    """A Secret or ConfigMap from a generator entry (envs / files / literals)."""
    data = {}
    for literal in spec.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for env in spec.get("envs", []):
        path = os.path.join(directory, env)
        if not os.path.exists(path) and os.path.exists(path + ".example"):
            path += ".example"   # the real file is never committed; its example has the same keys
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    data[key] = value
    for name in spec.get("files", []):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            data[os.path.basename(name)] = f.read()
    if not options.get("disableNameSuffixHash"):
        problem(f"{directory}: generator {spec['name']} without disableNameSuffixHash (this renderer does not hash names)")
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": spec["name"]}}
    obj["stringData" if kind == "Secret" else "data"] = data
    if kind == "Secret":
        obj["type"] = spec.get("type", "Opaque")
    return obj


def render(directory):
    """The objects `kubectl kustomize directory` would print (for the supported subset)."""
    path = os.path.join(directory, "kustomization.yaml")
    kustomization = load_documents(path)[0]
    for field in set(kustomization) - SUPPORTED_FIELDS:
        problem(f"{path}: field {field} is not supported by this renderer")
    objects = []
    for resource in kustomization.get("resources", []):
        target = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(target):
            objects += render(target)
        elif os.path.isfile(target):
            objects += load_documents(target)
        else:
            problem(f"{path}: resource {resource} does not exist")
    options = kustomization.get("generatorOptions", {})
    for spec in kustomization.get("secretGenerator", []):
        objects.append(generated(directory, spec, "Secret", options))
    for spec in kustomization.get("configMapGenerator", []):
        objects.append(generated(directory, spec, "ConfigMap", options))
    objects = [copy.deepcopy(o) for o in objects]
    namespace = kustomization.get("namespace")
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        if namespace and obj["kind"] not in CLUSTER_SCOPED:
            metadata["namespace"] = namespace
        for entry in kustomization.get("labels", []):
            if entry.get("includeSelectors") or entry.get("includeTemplates"):
                problem(f"{path}: labels with includeSelectors/includeTemplates are not supported")
            metadata.setdefault("labels", {}).update(entry.get("pairs", {}))
        for image in kustomization.get("images", []):
            for container in pod_containers(obj):
                if container.get("image", "").split(":")[0] == image["name"]:
                    container["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    return objects


def pod_spec(obj):
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    if obj.get("kind") == "Pod":
        return obj["spec"]
    return None


def pod_containers(obj):
    spec = pod_spec(obj)
    return [] if spec is None else spec.get("initContainers", []) + spec.get("containers", [])


def validate_inference_pool(obj, crd):
    version = obj["apiVersion"].split("/")[1]
    schemas = {v["name"]: v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v.get("served")}
    if obj["apiVersion"].split("/")[0] != crd["spec"]["group"] or version not in schemas:
        problem(f"InferencePool {obj['metadata']['name']}: {obj['apiVersion']} is not a served version of the pinned CRD")
        return
    schema = schemas[version]
    strict = copy.deepcopy(schema)

    def close(node):   # structural schemas reject unknown fields (pruning): make that an error here
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)
    close(strict["properties"]["spec"])
    for error in jsonschema.Draft7Validator(strict).iter_errors(obj):
        problem(f"InferencePool {obj['metadata']['name']}: {'/'.join(map(str, error.path))}: {error.message}")
    picker = obj.get("spec", {}).get("endpointPickerRef", {})
    if picker.get("kind", "Service") == "Service" and "port" not in picker:
        problem(f"InferencePool {obj['metadata']['name']}: endpointPickerRef.port is required when kind is Service")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--crd", required=True)
    parser.add_argument("--dockerfile", required=True)
    parser.add_argument("directories", nargs="+")
    args = parser.parse_args()
    crd = [d for d in load_documents(args.crd) if d.get("kind") == "CustomResourceDefinition"][0]
    dockerfile = open(args.dockerfile, encoding="utf-8").read()
    user = re.findall(r"^USER\s+(\d+)", dockerfile, re.M)

    for directory in args.directories:
        objects = render(directory)
        kinds = {}
        for obj in objects:
            kinds.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
        print(f"{directory}: {len(objects)} objects: " + ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in objects))
        for obj in objects:
            name = f"{directory}: {obj['kind']}/{obj['metadata']['name']}"
            if obj["kind"] == "InferencePool":
                validate_inference_pool(obj, crd)
            elif obj["kind"] == "HTTPRoute":
                if obj["apiVersion"] != "gateway.networking.k8s.io/v1":
                    problem(f"{name}: apiVersion {obj['apiVersion']}, expected gateway.networking.k8s.io/v1")
                if not obj["spec"].get("parentRefs"):
                    problem(f"{name}: no parentRefs")
                for rule in obj["spec"].get("rules", []):
                    for ref in rule.get("backendRefs", []):
                        if ref.get("kind") == "InferencePool" and (ref.get("group") != crd["spec"]["group"] or ref["name"] not in kinds.get("InferencePool", {})):
                            problem(f"{name}: backendRef {ref} names no InferencePool of this render")
            else:
                try:
                    kubernetes_validate.validate(obj, args.kubernetes_version, strict=True)
                except kubernetes_validate.ValidationError as error:
                    problem(f"{name}: {'/'.join(map(str, error.path))}: {error.message}")
                except Exception as error:   # unknown kind/version for this Kubernetes release
                    problem(f"{name}: {error}")

        for deployment in kinds.get("Deployment", {}).values():
            spec = pod_spec(deployment)
            labels = deployment["spec"]["template"]["metadata"].get("labels", {})
            selector = deployment["spec"]["selector"]["matchLabels"]
            if not selector.items() <= labels.items():
                problem(f"Deployment {deployment['metadata']['name']}: selector {selector} does not match its pod labels")
            for service in kinds.get("Service", {}).values():
                if not service["spec"]["selector"].items() <= labels.items():
                    problem(f"Service {service['metadata']['name']}: selector matches no Deployment pod")
            for pool in kinds.get("InferencePool", {}).values():
                if not pool["spec"]["selector"]["matchLabels"].items() <= labels.items():
                    problem(f"InferencePool {pool['metadata']['name']}: selector matches no Deployment pod")
                ports = {p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
                for target in pool["spec"]["targetPorts"]:
                    if target["number"] not in ports:
                        problem(f"InferencePool {pool['metadata']['name']}: target port {target['number']} is no container port")
            security = spec.get("securityContext", {})
            if not security.get("runAsNonRoot"):
                problem("the pod does not set runAsNonRoot")
            if user and str(security.get("runAsUser")) != user[-1]:
                problem(f"the pod runs as uid {security.get('runAsUser')}, the Dockerfile's USER is {user[-1]}")
            for container in pod_containers(deployment):
                context = container.get("securityContext", {})
                if not context.get("readOnlyRootFilesystem") or context.get("allowPrivilegeEscalation") is not False:
                    problem(f"container {container['name']}: needs readOnlyRootFilesystem and allowPrivilegeEscalation: false")
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref and ref["key"] not in kinds.get("Secret", {}).get(ref["name"], {}).get("stringData", {}):
                        problem(f"container {container['name']}: secret {ref['name']}/{ref['key']} is not rendered")
            main_container = spec["containers"][0]
            probes = {kind: main_container.get(kind, {}).get("httpGet", {}).get("path")
                      for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
            if probes != {"startupProbe": "/readyz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
                problem(f"probes {probes}: expected startup and readiness on /readyz, liveness on /healthz")
            for volume in spec.get("volumes", []):
                if "configMap" in volume and volume["configMap"]["name"] not in kinds.get("ConfigMap", {}):
                    problem(f"volume {volume['name']}: ConfigMap {volume['configMap']['name']} is not rendered")
                if "persistentVolumeClaim" in volume:
                    claim = kinds.get("PersistentVolumeClaim", {}).get(volume["persistentVolumeClaim"]["claimName"])
                    if claim is None:
                        problem(f"volume {volume['name']}: its PersistentVolumeClaim is not rendered")
                    elif volume["name"] == "adapters" and claim["spec"]["accessModes"] != ["ReadWriteMany"]:
                        problem("the adapter store's claim must be ReadWriteMany (replicas share it)")

    for line in problems:
        print("problem:", line, file=sys.stderr)
    if not problems:
        print(f"manifests valid for Kubernetes {args.kubernetes_version}, InferencePool {crd['spec']['group']}/"
              + ",".join(v["name"] for v in crd["spec"]["versions"] if v.get("served")))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
