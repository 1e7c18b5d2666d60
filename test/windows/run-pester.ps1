# Runs the Windows suite with Pester (the module file given) and prints Pester's counts as the
# closing line "N passed, N failed, N skipped"; exits 1 when a test failed or none ran.
param([Parameter(Mandatory)][string]$PesterModule, [string]$FullNameFilter)
Import-Module $PesterModule -Force
$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
if ($FullNameFilter) { $config.Filter.FullName = $FullNameFilter }
$result = Invoke-Pester -Configuration $config
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
"windows: $($result.PassedCount) passed, $failed failed, $($result.SkippedCount) skipped"
exit ([int]($failed -gt 0 -or $result.PassedCount -eq 0))
