-- Argo CD health of an apps/Deployment that also reads Gatekeeper's gatekeeper.dev/Migrated condition.
-- Install as resource.customizations.health.apps_Deployment in argocd-cm (see argocd-cm.yaml). It replaces Argo CD's
-- built-in Deployment check, so it repeats that check's rules after Gatekeeper's: a migration that failed is Degraded
-- at once (not after progressDeadlineSeconds), one that runs is Progressing with Gatekeeper's message.
local hs = {}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "gatekeeper.dev/Migrated" then
      if condition.status == "False" then
        hs.status = "Degraded"
        hs.message = "Gatekeeper: " .. (condition.reason or "") .. ": " .. (condition.message or "")
        return hs
      elseif condition.status == "Unknown" then
        hs.status = "Progressing"
        hs.message = "Gatekeeper: " .. (condition.reason or "") .. ": " .. (condition.message or "")
        return hs
      end
    end
  end
end
if obj.spec ~= nil and obj.spec.paused == true then
  hs.status = "Suspended"
  hs.message = "Deployment is paused"
  return hs
end
if obj.status == nil or obj.metadata.generation == nil or obj.status.observedGeneration == nil
    or obj.metadata.generation > obj.status.observedGeneration then
  hs.status = "Progressing"
  hs.message = "Waiting for rollout to finish: observed deployment generation less than desired generation"
  return hs
end
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded" then
      hs.status = "Degraded"
      hs.message = "Deployment " .. obj.metadata.name .. " exceeded its progress deadline"
      return hs
    end
  end
end
local replicas = obj.spec.replicas or 1
local updated = obj.status.updatedReplicas or 0
local total = obj.status.replicas or 0
local available = obj.status.availableReplicas or 0
if updated < replicas then
  hs.status = "Progressing"
  hs.message = string.format("Waiting for rollout to finish: %d out of %d new replicas have been updated...", updated, replicas)
elseif total > updated then
  hs.status = "Progressing"
  hs.message = string.format("Waiting for rollout to finish: %d old replicas are pending termination...", total - updated)
elseif available < updated then
  hs.status = "Progressing"
  hs.message = string.format("Waiting for rollout to finish: %d of %d updated replicas are available...", available, updated)
else
  hs.status = "Healthy"
  hs.message = ""
end
return hs
