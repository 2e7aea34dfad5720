-- Runs docs/gitops/argocd-health.lua as Argo CD would (a chunk with the object as global `obj`, returning
-- {status, message}) on Deployments in each state that matters, and fails on the first wrong answer.
-- lua5.4 scripts/ci/argocd-health-test.lua docs/gitops/argocd-health.lua
local path = arg[1]
local source = assert(io.open(path)):read("a")

local function health(object)
  local chunk = assert(load(source, "@" .. path, "t", setmetatable({ obj = object }, { __index = _G })))
  return chunk()
end

local function deployment(status, extra)
  local d = { metadata = { name = "shop", generation = 2 }, spec = { replicas = 2 }, status = status }
  for k, v in pairs(extra or {}) do d.spec[k] = v end
  return d
end

local rolled = { observedGeneration = 2, replicas = 2, updatedReplicas = 2, availableReplicas = 2 }
local held = { observedGeneration = 2, replicas = 4, updatedReplicas = 2, availableReplicas = 2 }
local function with(status, conditions)
  local s = {}
  for k, v in pairs(status) do s[k] = v end
  s.conditions = conditions
  return s
end
local migrated = function(state, reason, message)
  return { type = "gatekeeper.dev/Migrated", status = state, reason = reason, message = message }
end

local cases = {
  { "rolled out, migration applied", deployment(with(rolled, { migrated("True", "Applied", "plan applied") })), "Healthy" },
  { "rolled out, never opted in", deployment(rolled), "Healthy" },
  { "migration failed: Degraded at once", deployment(with(held, { migrated("False", "MigrationFailed", "Job shop-1 failed") })), "Degraded", "MigrationFailed" },
  { "plan rejected", deployment(with(rolled, { migrated("False", "PlanRejected", "GK101") })), "Degraded", "PlanRejected" },
  { "migration running: Progressing with Gatekeeper's message", deployment(with(held, { migrated("Unknown", "Migrating", "Job shop-1 runs") })), "Progressing", "Migrating" },
  { "new pods not all updated", deployment(with(held, { migrated("True", "Applied", "") })), "Progressing" },
  { "generation not yet observed", deployment({ observedGeneration = 1, replicas = 2, updatedReplicas = 2, availableReplicas = 2 }), "Progressing" },
  { "progress deadline exceeded", deployment(with(held, { { type = "Progressing", status = "False", reason = "ProgressDeadlineExceeded" } })), "Degraded" },
  { "paused", deployment(rolled, { paused = true }), "Suspended" },
}

local failed = 0
for _, case in ipairs(cases) do
  local name, object, want, mention = case[1], case[2], case[3], case[4]
  local got = health(object)
  if got.status ~= want or (mention and not string.find(got.message, mention, 1, true)) then
    print(string.format("FAIL %s: got %s (%s), want %s%s", name, tostring(got.status), tostring(got.message), want, mention and (" mentioning " .. mention) or ""))
    failed = failed + 1
  end
end
print(string.format("argocd health: %d cases, %d failed", #cases, failed))
os.exit(failed == 0 and 0 or 1)
