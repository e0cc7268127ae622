"""People and roles: who may do what (least privilege)."""
