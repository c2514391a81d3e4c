# The RBAC objects that nixpkgs' pki.nix would otherwise have applied (it is what applies
# `addonManager.bootstrapAddons` with a cluster-admin kubeconfig), keyed for
# services.kubernetes.addonManager.bootstrapAddons. Subjects are the CNs of the layout's
# certificates, not the names easyCerts used: nixpkgs' own binding names the user
# `system:kube-apiserver`, while the layout's API server → kubelet client is
# `kube-apiserver-kubelet-client`. Keys and object names are prefixed `k8ops` so they never
# merge with (attrs merge is shallow) the objects nixpkgs modules declare. builtins only.
{
  apiserverKubeletClientCN,
  addonManagerCN,
  # The addons (cert-manager, Cilium, ingress-nginx, …) create CRDs, ClusterRoles and
  # namespaces; nixpkgs' default grants the addon manager full rights in kube-system only.
  addonManagerClusterAdmin ? true,
}:
let
  rbac = "rbac.authorization.k8s.io";
  user = name: {
    apiGroup = rbac;
    kind = "User";
    inherit name;
  };
  clusterRoleBinding = name: role: subject: {
    apiVersion = "${rbac}/v1";
    kind = "ClusterRoleBinding";
    metadata = {
      inherit name;
      labels."app.kubernetes.io/managed-by" = "k8ops";
    };
    roleRef = {
      apiGroup = rbac;
      kind = "ClusterRole";
      name = role;
    };
    subjects = [ (user subject) ];
  };
  amName = "k8ops:kube-addon-manager";
in
{
  # API server → kubelet (logs, exec, port-forward): kubelets authorize with Webhook mode.
  k8ops-apiserver-kubelet-api-admin-crb =
    clusterRoleBinding "k8ops:${apiserverKubeletClientCN}:kubelet-api-admin" "system:kubelet-api-admin"
      apiserverKubeletClientCN;

  # The addon manager's rights, as nixpkgs' addon-manager.nix declares them, for the layout's CN.
  k8ops-addon-manager-r = {
    apiVersion = "${rbac}/v1";
    kind = "Role";
    metadata = {
      name = amName;
      namespace = "kube-system";
      labels."app.kubernetes.io/managed-by" = "k8ops";
    };
    rules = [
      {
        apiGroups = [ "*" ];
        resources = [ "*" ];
        verbs = [ "*" ];
      }
    ];
  };
  k8ops-addon-manager-rb = {
    apiVersion = "${rbac}/v1";
    kind = "RoleBinding";
    metadata = {
      name = amName;
      namespace = "kube-system";
      labels."app.kubernetes.io/managed-by" = "k8ops";
    };
    roleRef = {
      apiGroup = rbac;
      kind = "Role";
      name = amName;
    };
    subjects = [ (user addonManagerCN) ];
  };
  k8ops-addon-manager-cluster-lister-cr = {
    apiVersion = "${rbac}/v1";
    kind = "ClusterRole";
    metadata = {
      name = "${amName}:cluster-lister";
      labels."app.kubernetes.io/managed-by" = "k8ops";
    };
    rules = [
      {
        apiGroups = [ "*" ];
        resources = [ "*" ];
        verbs = [ "list" ];
      }
    ];
  };
  k8ops-addon-manager-cluster-lister-crb =
    clusterRoleBinding "${amName}:cluster-lister" "${amName}:cluster-lister"
      addonManagerCN;
}
// (
  if addonManagerClusterAdmin then
    {
      k8ops-addon-manager-cluster-admin-crb =
        clusterRoleBinding "${amName}:cluster-admin" "cluster-admin"
          addonManagerCN;
    }
  else
    { }
)
