# The example lab's inventory: the same on every node (k8ops.cluster.nodes), and the same
# nodes, indexes, roles and addresses as nix/example/k8ops.yaml, the console's inventory.
# Pure data; nix/example/default.nix turns it into one nixosConfiguration per node.
{
  cluster = "lab";
  apiserverAddress = "10.77.0.11";
  # Holds the intermediate CA keys and signs renewed certificates (k8ops.yaml pki.signer).
  signer = "cp-1";
  podCIDR = "10.244.0.0/16";
  interfaces = [ "enp1s0" ];
  nodes = {
    cp-1 = {
      index = 0;
      roles = [
        "control-plane"
        "etcd"
      ];
      addresses = [ "10.77.0.11" ];
    };
    worker-1 = {
      index = 1;
      roles = [ "worker" ];
      addresses = [ "10.77.0.21" ];
    };
    worker-2 = {
      index = 2;
      roles = [ "worker" ];
      addresses = [ "10.77.0.22" ];
    };
  };
}
