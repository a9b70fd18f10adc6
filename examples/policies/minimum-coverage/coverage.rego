package custody.deploy

minimum_percent := 80

max_drop := 2

coverage := object.get(input, ["evidence", "coverage"], {})

deny contains "no coverage report reaches production" if {
	input.environment.type == "production"
	object.get(coverage, "reports", 0) == 0
}

deny contains msg if {
	input.environment.type == "production"
	pct := coverage.lines.percent
	pct != null
	pct < minimum_percent
	msg := sprintf("line coverage %.1f%% is below %d%%", [pct, minimum_percent])
}

deny contains msg if {
	input.environment.type == "production"
	drop := coverage.drop
	drop != null
	drop > max_drop
	msg := sprintf("line coverage dropped %.1f points since the release in production", [drop])
}
