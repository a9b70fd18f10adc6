package custody.deploy

time_zones := {
	"prod": "America/New_York",
	"prod-eu": "Europe/Berlin",
	"prod-apac": "Asia/Singapore",
}

zone := object.get(time_zones, input.environment.name, "UTC")

local_time := [h, day] if {
	ns := time.parse_rfc3339_ns(input.at)
	[h, _, _] := time.clock([ns, zone])
	day := time.weekday([ns, zone])
}

exempt if input.run.lane in {"rollback", "emergency"}

deny contains msg if {
	input.environment.type == "production"
	not exempt
	[h, day] := local_time
	not working_hours(h, day)
	msg := sprintf("%s deploys on working days 09:00-16:00 %s; it is %s %02d:xx there", [input.environment.name, zone, day, h])
}

working_hours(h, day) if {
	not day in {"Saturday", "Sunday"}
	h >= 9
	h < 16
}
