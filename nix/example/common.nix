# What every node of the example lab shares. Replace the hardware part with your own
# hardware-configuration.nix.
{ inventory, ... }:
{
  # ---- k8ops ---------------------------------------------------------------------------
  k8ops.cluster = {
    enable = true;
    name = inventory.cluster;
    inherit (inventory) apiserverAddress podCIDR nodes;
  };

  k8ops.networking = {
    enable = true;
    inherit (inventory) interfaces;
  };

  # The addons of nix/addons/addons.json are deployed on control-plane nodes by default
  # (where the addon manager runs). Their sha256 pins are empty until the addon sync fills
  # them, and an unpinned addon stops evaluation with that message: to build the nodes
  # before the first sync, uncomment this.
  # k8ops.addons.enable = false;

  k8ops.nodeTools = {
    enable = true;
    # `signer` is set per node in default.nix (inventory.signer): the intermediate CA keys
    # live there; the root key stays offline.
    rotation = {
      enable = true;
      # hook = null: report only — the journal says what is due and when.
    };
  };

  # ---- the machine (placeholders: use your hardware-configuration.nix) ---------------------
  boot.loader.grub.device = "/dev/vda";
  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
  networking.useDHCP = false;
  networking.defaultGateway = "10.77.0.1";
  networking.nameservers = [ "10.77.0.1" ];
  services.openssh.enable = true;
  # users.users.root.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAA… you@laptop" ];
  system.stateVersion = "25.05";
}
