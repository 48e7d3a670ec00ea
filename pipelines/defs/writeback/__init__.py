"""Write-back wiring: the configured CRMs as write-back targets (shared by ``crm-loop writeback``)."""
