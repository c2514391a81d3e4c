# Rotation slot of a node (DESIGN.md, "Rotation schedule"): node i of N gets the offset
# i × spread / N; a leaf is then rotated at (notAfter − renewBefore) + offset. Whole seconds,
# rounded down. builtins only.
{
  index,
  count,
  spreadSeconds ? 24 * 3600,
}:
if !(builtins.isInt index && builtins.isInt count && builtins.isInt spreadSeconds) then
  throw "k8ops rotation: index, count and spreadSeconds must be integers"
else if count < 1 then
  throw "k8ops rotation: the cluster has no nodes (count = ${toString count})"
else if index < 0 || index >= count then
  throw "k8ops rotation: node index ${toString index} is outside 0…${toString (count - 1)}"
else if spreadSeconds < 0 then
  throw "k8ops rotation: spreadSeconds must not be negative"
else
  {
    inherit index count spreadSeconds;
    offsetSeconds = index * spreadSeconds / count;
  }
