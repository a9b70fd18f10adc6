package custody.deploy

blocking_severities := ["critical", "high"]

deny contains msg if {
	input.environment.type == "production"
	some severity in blocking_severities
	n := object.get(input, ["evidence", "findings", "new", severity], 0)
	n > 0
	msg := sprintf("%d new %s finding(s) since the release in production", [n, severity])
}

warn contains msg if {
	input.environment.type == "production"
	n := object.get(input, ["evidence", "findings", "existing", "critical"], 0)
	n > 0
	msg := sprintf("%d critical finding(s) already in production remain open", [n])
}
