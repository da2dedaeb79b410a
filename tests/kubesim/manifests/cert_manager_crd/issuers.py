"""Issuer and ClusterIssuer (one IssuerSpec: pkg/apis/certmanager/v1/types_issuer.go, the ACME
part pkg/apis/acme/v1/types_issuer.go) as each release's controller-gen output has them."""

from __future__ import annotations

from .builders import array, boolean, enum, integer, obj, root, string, string_map, strings
from .core import pod_template
from .meta import conditions, local_object_reference, secret_key_selector
from .versions import release


def _sa_ref(atomic: bool) -> dict:
    """ServiceAccountRef: ``Name`` required, optional ``TokenAudiences`` (json ``audiences``)."""
    return obj({"audiences": strings(atomic), "name": string()}, required=["name"])


def _dns01(rel, a: bool) -> dict:
    sks = secret_key_selector
    azure = {"clientID": string(), "clientSecretSecretRef": sks(),
             "environment": enum("AzurePublicCloud", "AzureChinaCloud", "AzureGermanCloud", "AzureUSGovernmentCloud"),
             "hostedZoneName": string(),
             "managedIdentity": obj({"clientID": string(), "resourceID": string(),
                                     **({"tenantID": string()} if rel >= (1, 18, 0) else {})}),
             "resourceGroupName": string(), "subscriptionID": string(), "tenantID": string()}
    if rel >= (1, 21, 0):
        azure["zoneType"] = enum("AzurePublicZone", "AzurePrivateZone")
    rfc2136 = {"nameserver": string()}
    if rel >= (1, 19, 0):
        rfc2136["protocol"] = enum("TCP", "UDP")
    rfc2136.update({"tsigAlgorithm": string(), "tsigKeyName": string(), "tsigSecretSecretRef": sks()})
    return obj({
        "acmeDNS": obj({"accountSecretRef": sks(), "host": string()}, required=["accountSecretRef", "host"]),
        "akamai": obj({"accessTokenSecretRef": sks(), "clientSecretSecretRef": sks(), "clientTokenSecretRef": sks(),
                       "serviceConsumerDomain": string()},
                      required=["accessTokenSecretRef", "clientSecretSecretRef", "clientTokenSecretRef",
                                "serviceConsumerDomain"]),
        "azureDNS": obj(azure, required=["resourceGroupName", "subscriptionID"]),
        "cloudDNS": obj({"hostedZoneName": string(), "project": string(), "serviceAccountSecretRef": sks()},
                        required=["project"]),
        "cloudflare": obj({"apiKeySecretRef": sks(), "apiTokenSecretRef": sks(), "email": string()}),
        "cnameStrategy": enum("None", "Follow"),
        "digitalocean": obj({"tokenSecretRef": sks()}, required=["tokenSecretRef"]),
        "rfc2136": obj(rfc2136, required=["nameserver"]),
        "route53": obj({"accessKeyID": string(), "accessKeyIDSecretRef": sks(),
                        "auth": obj({"kubernetes": obj({"serviceAccountRef": _sa_ref(a)},
                                                       required=["serviceAccountRef"])}, required=["kubernetes"]),
                        "hostedZoneID": string(), "region": string(), "role": string(),
                        "secretAccessKeySecretRef": sks()}),
        "webhook": obj({"config": {"x-kubernetes-preserve-unknown-fields": True}, "groupName": string(),
                        "solverName": string()}, required=["groupName", "solverName"]),
    })


def _parent_ref() -> dict:
    """Gateway API ParentReference (sigs.k8s.io/gateway-api apis/v1), with its kubebuilder markers."""
    dns_subdomain = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    return obj({
        "group": string(default="gateway.networking.k8s.io", maxLength=253, pattern="^$|" + dns_subdomain),
        "kind": string(default="Gateway", maxLength=63, minLength=1, pattern=r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"),
        "name": string(maxLength=253, minLength=1),
        "namespace": string(maxLength=63, minLength=1, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        "port": integer("int32", maximum=65535, minimum=1),
        "sectionName": string(maxLength=253, minLength=1, pattern=dns_subdomain),
    }, required=["name"])


def _http01(rel, a: bool) -> dict:
    labels_only = obj({"metadata": obj({"annotations": string_map(), "labels": string_map()})})
    return obj({
        "gatewayHTTPRoute": obj({"labels": string_map(), "parentRefs": array(_parent_ref(), a),
                                 "podTemplate": pod_template(rel), "serviceType": string()}),
        "ingress": obj({"class": string(), "ingressClassName": string(), "ingressTemplate": labels_only,
                        "name": string(), "podTemplate": pod_template(rel), "serviceType": string()}),
    })


def _acme(rel, a: bool) -> dict:
    solver = {"dns01": _dns01(rel, a), "http01": _http01(rel, a),
              "selector": obj({"dnsNames": strings(a), "dnsZones": strings(a), "matchLabels": string_map()})}
    if rel >= (1, 21, 0):
        solver["waitInsteadOfSelfCheck"] = string()
    props = {"caBundle": string(format="byte"), "disableAccountKeyGeneration": boolean(), "email": string(),
             "enableDurationFeature": boolean(),
             "externalAccountBinding": obj({"keyAlgorithm": enum("HS256", "HS384", "HS512"), "keyID": string(),
                                            "keySecretRef": secret_key_selector()},
                                           required=["keyID", "keySecretRef"]),
             "preferredChain": string(maxLength=64), "privateKeySecretRef": secret_key_selector()}
    if rel >= (1, 18, 0):
        props["profile"] = string()
    props.update({"server": string(), "skipTLSVerify": boolean(), "solvers": array(obj(solver), a)})
    return obj(props, required=["privateKeySecretRef", "server"])


def _vault(rel, a: bool) -> dict:
    sks = secret_key_selector
    auth = {"appRole": obj({"path": string(), "roleId": string(), "secretRef": sks()},
                           required=["path", "roleId", "secretRef"])}
    if rel >= (1, 21, 0):
        auth["aws"] = obj({"iamRoleArn": string(), "mountPath": string(), "region": string(),
                           "role": string(minLength=1), "serviceAccountRef": _sa_ref(a),
                           "vaultHeaderValue": string()}, required=["role"])
    auth.update({
        "clientCertificate": obj({"mountPath": string(), "name": string(), "secretName": string()}),
        "kubernetes": obj({"mountPath": string(), "role": string(), "secretRef": sks(),
                           "serviceAccountRef": _sa_ref(a)}, required=["role"]),
        "tokenSecretRef": sks()})
    props = {"auth": obj(auth), "caBundle": string(format="byte"), "caBundleSecretRef": sks(),
             "clientCertSecretRef": sks(), "clientKeySecretRef": sks(), "namespace": string(), "path": string(),
             "server": string()}
    if rel >= (1, 18, 0):
        props["serverName"] = string()
    return obj(props, required=["auth", "path", "server"])


def _venafi(rel) -> dict:
    props = {"cloud": obj({"apiTokenSecretRef": secret_key_selector(), "url": string()},
                          required=["apiTokenSecretRef"])}
    extra = {}
    if rel >= (1, 21, 0):
        props["ngts"] = obj({"credentialsRef": local_object_reference(), "tokenEndpoint": string(), "tsgID": string(),
                             "url": string()}, required=["credentialsRef", "tsgID"])
        # +kubebuilder:validation:XValidation on VenafiIssuer (one of the three back ends).
        extra["x-kubernetes-validations"] = [{
            "message": "exactly one of tpp, cloud, or ngts must be configured",
            "rule": "(has(self.tpp) ? 1 : 0) + (has(self.cloud) ? 1 : 0) + (has(self.ngts) ? 1 : 0) == 1"}]
    props.update({"tpp": obj({"caBundle": string(format="byte"), "caBundleSecretRef": secret_key_selector(),
                              "credentialsRef": local_object_reference(), "url": string()},
                             required=["credentialsRef", "url"]),
                  "zone": string()})
    return obj(props, required=["zone"], **extra)


def issuer(version: str) -> dict:
    """The schema of both Issuer and ClusterIssuer (they share IssuerSpec/IssuerStatus)."""
    rel = release(version)
    a = rel >= (1, 19, 0)
    spec = obj({"acme": _acme(rel, a),
                "ca": obj({"crlDistributionPoints": strings(a), "issuingCertificateURLs": strings(a),
                           "ocspServers": strings(a), "secretName": string()}, required=["secretName"]),
                "selfSigned": obj({"crlDistributionPoints": strings(a)}),
                "vault": _vault(rel, a), "venafi": _venafi(rel)})
    status = obj({"acme": obj({"lastPrivateKeyHash": string(), "lastRegisteredEmail": string(), "uri": string()}),
                  "conditions": conditions(True)})
    schema = root(spec, status)
    schema["required"] = ["spec"]  # IssuerSpec has no omitempty on the Issuer types
    return schema
