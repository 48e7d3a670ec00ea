"""Write-back: crm-loop's outcomes into the fields the definitions file lists, in both CRMs (issue 18)."""
